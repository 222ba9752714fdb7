// Real OCI containers (podman + runc) on the testbed's container network: container id, host pid and in-container pid per request.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../../../src/testbed/agent-process.js';
import { IMDS_V4 } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import { scaledMs } from '../../../src/testbed/time-scale.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { recordFigure } from '../../helpers/figures.js';
import { HOST_PROC, Podman, podmanSkipReason, type CgroupManager } from '../../helpers/podman.js';

const prereq = testbedPrerequisites();
const podmanMissing = podmanSkipReason();
// CI (IMDS_SNIFF_REQUIRE_E2E=1) runs these whatever is missing, so a missing podman fails there instead of skipping.
const skip = !prereq.ok ? prereq.reason : process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1' ? null : podmanMissing;
const prefix = `imdssp${randomBytes(3).toString('hex')}`;
const WAIT_MS = 30_000;

/**
 * podman's systemd cgroup manager needs systemd as PID 1 (it asks it for a libpod-<id>.scope);
 * without it only the cgroupfs manager runs, and the systemd layouts are covered by the
 * fixtures in fixtures/proc/cgroup/.
 */
const hasSystemd = existsSync('/run/systemd/system');
const MANAGERS: CgroupManager[] = hasSystemd ? ['cgroupfs', 'systemd'] : ['cgroupfs'];
if (!hasSystemd && skip === null) console.log('podman: /run/systemd/system is absent (systemd is not PID 1): only the cgroupfs cgroup manager runs');

/**
 * What a client in the container prints: its pid inside the container ($$), its host pid (the
 * shell reads /hostproc/self/stat itself, so no child answers for it), then curl's local port
 * and status. exec keeps the pid: the curl is that very process.
 */
const CLIENT = `read -r hp rest < ${HOST_PROC}/self/stat; exec curl -s -o /dev/null --max-time 5 -w "$$ $hp %{local_port} %{http_code}\\n" "$0"`;

interface Truth {
  containerPid: number;
  hostPid: number;
  port: number;
  status: number;
}

function parseTruth(stdout: string): Truth[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [containerPid, hostPid, port, status] = l.trim().split(/\s+/).map(Number);
      return { containerPid: containerPid ?? NaN, hostPid: hostPid ?? NaN, port: port ?? NaN, status: status ?? NaN };
    });
}

/** The fields each request is checked on, as the event has them and as they should be. */
const checked = (e: ImdsRequestEvent | undefined) =>
  e && { kind: e.kind, status: e.status, pid: e.pid, comm: e.comm, container_id: e.container_id, container_pid: e.container_pid };

/** What the agent said about its attribution, for a run that missed. */
async function agentReport(agent: AgentProcess): Promise<string> {
  const exit = await agent.stop();
  const warnings = agent.events.filter((e) => e.event === 'warning');
  return `attribution_counts ${JSON.stringify(exit.summary?.attribution_counts)}; trace ${JSON.stringify(exit.summary?.attribution_trace)}; warnings ${JSON.stringify(warnings)}; stderr: ${agent.stderr.trim().split('\n').slice(-5).join(' | ')}`;
}

/** One-shot containers per run: 8 where the testbed runs slowly (the kernel VMs, where each runc create/start/exit takes seconds), 20 here. */
const ONE_SHOTS = scaledMs(1) > 1 ? 8 : 20;

describe.skipIf(skip !== null)(skip === null ? 'podman containers' : `podman containers (skipped: ${skip})`, () => {
  let tb: Testbed;
  let agent: AgentProcess | null = null;

  beforeAll(async () => {
    if (podmanMissing) throw new Error(`IMDS_SNIFF_REQUIRE_E2E=1 but ${podmanMissing}`);
    tb = await createTestbed({ prefix, block: 37 });
  });

  afterEach(async () => {
    if (agent) await agent.stop();
    agent = null;
  });

  afterAll(async () => {
    await agent?.stop();
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
  });

  async function startAgent(): Promise<AgentProcess> {
    agent = await AgentProcess.start(tb.nsName('host'), ['--no-identity']);
    expect(agent.startEvent?.attribution_method).toBe('tracefs');
    return agent;
  }

  describe.each(MANAGERS)('%s cgroup manager', (manager) => {
    let podman: Podman;

    beforeAll(() => {
      podman = Podman.create(`${prefix}-${manager}`, manager);
    });

    afterAll(async () => {
      await podman?.close();
    });

    it(`curl as the container's own command: host pid, comm, container id and in-container pid 1, for each of ${ONE_SHOTS} containers`, async () => {
      const a = await startAgent();
      const runs: { id: string; hostPid: number; truth: Truth }[] = [];
      // Four at a time: each is a whole runc create/start/exit, the client living a few ms.
      for (let wave = 0; wave < ONE_SHOTS / 4; wave++) {
        runs.push(
          ...(await Promise.all(
            Array.from({ length: 4 }, async () => {
              const run = await podman.run(tb.nsName('ctr'), ['sh', '-c', CLIENT, `${IMDS_V4}/latest/meta-data/instance-id`]);
              const [truth] = parseTruth(run.stdout);
              if (!truth) throw new Error(`container ${run.name} printed nothing: ${run.stderr}`);
              // runc's pid file names the container's first process by its host pid (podman inspect's State.Pid is 0 once it exited).
              return { id: run.id, hostPid: await podman.initPid(run.name), truth };
            }),
          )),
        );
      }
      for (const r of runs) {
        expect(r.id).toMatch(/^[0-9a-f]{64}$/);
        expect(r.truth).toMatchObject({ status: 200, containerPid: 1, hostPid: r.hostPid });
      }
      const ports = new Set(runs.map((r) => r.truth.port));
      await a.waitForRequests(runs.length, WAIT_MS, (e) => ports.has(e.src_port));
      const byPort = new Map(a.requests.filter((e) => ports.has(e.src_port)).map((e) => [e.src_port, e]));
      const want = (r: (typeof runs)[number]) => ({ kind: 'v1', status: 200, pid: r.hostPid, comm: 'curl', container_id: r.id, container_pid: 1 });
      const right = runs.filter((r) => JSON.stringify(checked(byPort.get(r.truth.port))) === JSON.stringify(want(r)));
      console.log(`podman as command (${manager}): ${[...byPort.values()].filter((e) => e.attribution === 'exited').length}/${runs.length} gone before /proc was read`);
      recordFigure({ scenario: `podman: curl as the container command, ${ONE_SHOTS} containers (${manager})`, requests: runs.length, right: right.length });
      if (right.length < runs.length) console.log('misses', JSON.stringify(runs.filter((r) => !right.includes(r)).map((r) => ({ want: want(r), got: checked(byPort.get(r.truth.port)), attribution: byPort.get(r.truth.port)?.attribution }))), await agentReport(a));
      expect(right.length / runs.length).toBeGreaterThanOrEqual(0.99);
      const first = byPort.get(runs[0]!.truth.port);
      expect(first?.cgroup).toContain(manager === 'systemd' ? `libpod-${runs[0]!.id}.scope` : `/libpod_parent/libpod-${runs[0]!.id}`);
      // No event names a wrong process: a miss may only be "unknown".
      expect(runs.map((r) => byPort.get(r.truth.port)).filter((e) => e?.pid != null && !runs.some((r) => r.hostPid === e.pid && r.truth.port === e.src_port))).toEqual([]);
      const exit = await a.stop();
      const summary = exit.summary?.processes.find((p) => p.container_id === runs[0]!.id);
      expect(summary).toMatchObject({ comm: 'curl', container_pids: [1] });
    });

    it('a burst of 60 curls inside one long-lived container: each one its host pid, container id and in-container pid', async () => {
      const box = await podman.run(tb.nsName('ctr'), ['sleep', '600'], { detach: true });
      expect(box.id).toMatch(/^[0-9a-f]{64}$/);
      const a = await startAgent();
      const burst = `for i in $(seq 60); do sh -c '${CLIENT}' ${IMDS_V4}/latest/meta-data/ami-id & done; wait`;
      const exec = await podman.exec(box.name, ['sh', '-c', burst]);
      const truths = parseTruth(exec.stdout);
      expect(truths).toHaveLength(60);
      expect(truths.every((t) => t.status === 200 && t.containerPid > 1 && t.hostPid > 1)).toBe(true);
      const ports = new Set(truths.map((t) => t.port));
      expect(ports.size).toBe(60);
      await a.waitForRequests(60, WAIT_MS, (e) => ports.has(e.src_port));
      const byPort = new Map(a.requests.filter((e) => ports.has(e.src_port)).map((e) => [e.src_port, e]));
      const want = (t: Truth) => ({ kind: 'v1', status: 200, pid: t.hostPid, comm: 'curl', container_id: box.id, container_pid: t.containerPid });
      const right = truths.filter((t) => JSON.stringify(checked(byPort.get(t.port))) === JSON.stringify(want(t)));
      const rightPid = truths.filter((t) => byPort.get(t.port)?.pid === t.hostPid).length;
      const rightContainer = truths.filter((t) => byPort.get(t.port)?.container_id === box.id).length;
      const rightContainerPid = truths.filter((t) => byPort.get(t.port)?.container_pid === t.containerPid).length;
      const exited = [...byPort.values()].filter((e) => e.attribution === 'exited').length;
      console.log(`podman burst (${manager}): pid ${rightPid}/60, container_id ${rightContainer}/60, container_pid ${rightContainerPid}/60; ${exited} gone before /proc was read`);
      recordFigure({ scenario: `podman: burst of 60 curls in one container (${manager})`, requests: 60, right: right.length });
      if (right.length < 60) console.log('misses', JSON.stringify(truths.filter((t) => !right.includes(t)).map((t) => ({ want: want(t), got: checked(byPort.get(t.port)), attribution: byPort.get(t.port)?.attribution }))), await agentReport(a));
      expect(right.length / 60).toBeGreaterThanOrEqual(0.99);
      expect(truths.filter((t) => { const e = byPort.get(t.port); return e?.pid != null && e.pid !== t.hostPid; })).toEqual([]);
      const exit = await a.stop();
      const summary = exit.summary?.processes.find((p) => p.container_id === box.id);
      expect(summary?.pid_count).toBe(60);
      expect(summary?.container_pids).toHaveLength(10); // the first ten distinct, as pids
    });
  });
});
