// The container image (packaging/build-image.sh) run as packaging/image/daemonset.yaml describes it:
// podman with the host's pid namespace, the testbed's instance network namespace (the node's), the
// DaemonSet's capabilities, read-only root, mounts and arguments. It must attribute the testbed's
// clients: curl on the instance, curl in the namespace container behind the NAT bridge, and curl
// as the command of a real OCI container (its container id).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { curlV1, IMDS_V4 } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import { scaledMs } from '../../../src/testbed/time-scale.js';
import { waitUntil } from '../../helpers/wait-until.js';
import { Podman, podmanSkipReason } from '../../helpers/podman.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ARCHIVE = join(ROOT, `build/dist/imds-sniff-${VERSION}-x64.oci.tar`);
const prefix = 'isimg';

const prereq = testbedPrerequisites();
function skipReason(): string | null {
  if (!prereq.ok) return prereq.reason;
  if (process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1') return null;
  return podmanSkipReason() ?? (existsSync(ARCHIVE) ? null : `${ARCHIVE} not built (bash packaging/build-image.sh x64)`);
}
const skip = skipReason();

interface DaemonSetContainer {
  args: string[];
  securityContext: { runAsUser: number; readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[]; add: string[] } };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface DaemonSet {
  spec: { template: { spec: { hostNetwork: boolean; hostPID: boolean; containers: DaemonSetContainer[]; volumes: Array<{ name: string; hostPath: { path: string } }> } } };
}

/** The DaemonSet manifest, read with PyYAML (moto's Python has it). */
function daemonSet(): DaemonSet {
  const r = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(ROOT, 'packaging/image/daemonset.yaml')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot read daemonset.yaml: ${r.stderr}`);
  return JSON.parse(r.stdout) as DaemonSet;
}

describe.skipIf(skip !== null)(`the container image as the DaemonSet runs it${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let tb: Testbed;
  let podman: Podman;
  let image: string;
  let agentName: string | null = null;
  const host = mkdtempSync(join(tmpdir(), 'imds-sniff-image-'));

  // Nodes mount tracefs at boot (systemd's sys-kernel-tracing.mount); the image has no mount(8) and
  // no CAP_SYS_ADMIN to do it itself. Mounted here when this machine has not, unmounted after.
  let mountedTracefs = false;

  beforeAll(async () => {
    if (spawnSync('mountpoint', ['-q', '/sys/kernel/tracing']).status !== 0) {
      expect(spawnSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing']).status).toBe(0);
      mountedTracefs = true;
    }
    tb = await createTestbed({ prefix, block: 39 });
    podman = Podman.create(prefix);
    image = await podman.load(ARCHIVE);
  });

  afterAll(async () => {
    if (agentName) console.log((await podman.logs(agentName).catch(() => '')).split('\n').slice(-5).join('\n'));
    await podman?.close();
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
    rmSync(host, { recursive: true, force: true });
    if (mountedTracefs) spawnSync('umount', ['/sys/kernel/tracing']);
  });

  it('holds the binary only, and answers --version', async () => {
    const run = await podman.run(tb.nsName('host'), ['--version'], { image: { ref: image, flags: [] } });
    expect(run.stdout).toMatch(new RegExp(`^imds-sniff ${VERSION.replace(/\./g, '\\.')}\\ncommit [0-9a-f]{12}(-dirty)?\\nnode v22\\.\\d+\\.\\d+\\nlibpcap 1\\.`));
  });

  it('attributes curl on the instance, in the NAT container and as an OCI container command', async () => {
    const ds = daemonSet();
    const pod = ds.spec.template.spec;
    const c = pod.containers[0] as DaemonSetContainer;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBe(true);
    // The DaemonSet's hostPath volumes, with the state and logs in a scratch directory instead of the host's.
    const mounts = c.volumeMounts.map((m) => {
      const path = pod.volumes.find((v) => v.name === m.name)?.hostPath.path ?? '';
      const source = path === '/sys/kernel/tracing' ? path : join(host, m.name);
      spawnSync('mkdir', ['-p', source]);
      return ['--volume', `${source}:${m.mountPath}`];
    });
    const flags = [
      '--pid', 'host',
      '--user', String(c.securityContext.runAsUser),
      ...(c.securityContext.readOnlyRootFilesystem ? ['--read-only'] : []),
      ...(c.securityContext.allowPrivilegeEscalation ? [] : ['--security-opt', 'no-new-privileges']),
      '--cap-drop', c.securityContext.capabilities.drop.join(','),
      '--cap-add', c.securityContext.capabilities.add.join(','),
      ...mounts.flat(),
    ];
    const agent = await podman.run(tb.nsName('host'), c.args, { detach: true, image: { ref: image, flags } });
    agentName = agent.name;
    await waitUntil(async () => ((await podman.logs(agent.name)).includes('"msg":"capturing"') ? true : undefined), scaledMs(30_000), 'the agent in the image to capture', { intervalMs: 100 });
    const logs = await podman.logs(agent.name);
    expect(logs).toMatch(/"method":"tracefs".*"msg":"attribution"/);

    const onHost = await curlV1(tb, 'host', '/latest/meta-data/ami-id');
    const inCtr = await curlV1(tb, 'ctr', '/latest/meta-data/ami-id');
    const oci = await podman.run(tb.nsName('ctr'), ['curl', '-s', '-o', '/dev/null', '--max-time', '5', '-w', '%{local_port}', `${IMDS_V4}/latest/meta-data/ami-id`]);
    const ociPid = await podman.initPid(oci.name);
    const ociPort = Number(oci.stdout.trim());
    expect([onHost.stdout, inCtr.stdout]).toEqual(['200', '200']);

    const eventsFile = join(host, 'logs/events.jsonl');
    const ports = [onHost.localPort, inCtr.localPort, ociPort];
    const events = await waitUntil(
      () => {
        if (!existsSync(eventsFile)) return undefined;
        const lines = readFileSync(eventsFile, 'utf8').trim().split('\n').filter((l) => l.startsWith('{"event":"imds_request"'));
        const found = lines.map((l) => JSON.parse(l) as ImdsRequestEvent).filter((e) => ports.includes(e.src_port) && e.path === '/latest/meta-data/ami-id');
        return found.length >= 3 ? found : undefined;
      },
      scaledMs(30_000),
      'the three requests in the events log',
    );
    const byPort = (port: number | undefined): ImdsRequestEvent | undefined => events.find((e) => e.src_port === port);
    expect(byPort(onHost.localPort)).toMatchObject({ kind: 'v1', pid: onHost.pid, comm: 'curl', container_id: null });
    expect(byPort(inCtr.localPort)).toMatchObject({ kind: 'v1', pid: inCtr.pid, comm: 'curl' });
    expect(byPort(ociPort)).toMatchObject({ kind: 'v1', pid: ociPid, comm: 'curl', container_id: oci.id, container_pid: 1 });

    // SIGTERM (podman stop): the state written, exit 0.
    await podman.podman(['stop', '--time', '20', agent.name]);
    const state = await podman.podman(['inspect', '--format', '{{.State.ExitCode}}', agent.name]);
    expect(state.stdout.trim()).toBe('0');
    expect(existsSync(join(host, 'state/state.json'))).toBe(true);
  });
});

describe('the DaemonSet and the ECS task definition', () => {
  const unitCaps = (/^CapabilityBoundingSet=(.*)$/m.exec(readFileSync(join(ROOT, 'systemd/imds-sniff.service'), 'utf8'))?.[1] ?? '')
    .split(/\s+/)
    .map((c) => c.replace(/^CAP_/, ''))
    .sort();

  it.skipIf(spawnSync('python3', ['-c', 'import yaml']).status !== 0)('the DaemonSet keeps exactly the systemd unit capabilities, with the host namespaces', () => {
    const pod = daemonSet().spec.template.spec;
    const c = pod.containers[0] as DaemonSetContainer;
    expect(unitCaps).toEqual(['DAC_READ_SEARCH', 'NET_RAW', 'SYS_PTRACE']);
    expect([...c.securityContext.capabilities.add].sort()).toEqual(unitCaps);
    expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    expect([pod.hostNetwork, pod.hostPID, c.securityContext.allowPrivilegeEscalation, c.securityContext.readOnlyRootFilesystem]).toEqual([true, true, false, true]);
    expect(c.volumeMounts.map((m) => m.mountPath).sort()).toEqual(['/sys/kernel/tracing', '/var/lib/imds-sniff', '/var/log/imds-sniff']);
  });

  it('the ECS task definition matches it: host network and pid, the same capabilities, args and mounts', () => {
    const task = JSON.parse(readFileSync(join(ROOT, 'packaging/image/ecs-task-definition.json'), 'utf8')) as {
      networkMode: string;
      pidMode: string;
      containerDefinitions: Array<{ command: string[]; privileged: boolean; readonlyRootFilesystem: boolean; linuxParameters: { capabilities: { add: string[]; drop: string[] } }; mountPoints: Array<{ containerPath: string; sourceVolume: string }> }>;
      volumes: Array<{ name: string; host: { sourcePath: string } }>;
    };
    const c = task.containerDefinitions[0];
    expect([task.networkMode, task.pidMode]).toEqual(['host', 'host']);
    expect([...(c?.linuxParameters.capabilities.add ?? [])].sort()).toEqual(unitCaps);
    expect(c?.linuxParameters.capabilities.drop).toEqual(['ALL']);
    expect([c?.privileged, c?.readonlyRootFilesystem]).toEqual([false, true]);
    for (const m of c?.mountPoints ?? []) expect(task.volumes.find((v) => v.name === m.sourceVolume)?.host.sourcePath).toBe(m.containerPath);
    const yamlArgs = /args: \[(.*?)\]/s.exec(readFileSync(join(ROOT, 'packaging/image/daemonset.yaml'), 'utf8'))?.[1]?.split(',').map((a) => a.trim().replace(/^"|"$/g, ''));
    expect(c?.command).toEqual(yamlArgs);
  });
});
