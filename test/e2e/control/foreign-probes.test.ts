// Other clouds' metadata probes end to end: a real GCE probe (gcp-metadata isAvailable()) and curl with Azure's and OCI's
// paths and headers next to IMDSv2 callers, seen by the agent, the daemon's state file and metrics, and the enforce gate.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { intervalDatums } from '../../../src/sinks/metrics/datums.js';
import { zeroCounts, type ProcessCounts } from '../../../src/sinks/metrics/interval-counts.js';
import { readState } from '../../../src/contract/agent-state.js';
import { AgentProcess } from '../../../src/testbed/agent-process.js';
import { curlToken, curlWithToken, runClient, type ClientRun } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { DaemonProcess } from '../../helpers/daemon-process.js';
import { runInstance } from '../../helpers/ec2-call.js';
import { motoSkipReason } from '../../helpers/moto.js';
import { AWS_ENV, ControlBed, json } from './harness.js';
import { waitUntil } from '../../helpers/wait-until.js';

const prereq = testbedPrerequisites();
const skip = !prereq.ok ? prereq.reason : motoSkipReason();
const H = 3_600_000;
const GCP_PROBE = fileURLToPath(new URL('../../helpers/gcp-metadata-probe.mjs', import.meta.url));
const CW_PUT = fileURLToPath(new URL('../../helpers/cloudwatch-put.mjs', import.meta.url));

describe.skipIf(skip !== null)(skip === null ? 'foreign-cloud probes' : `foreign-cloud probes (skipped: ${skip})`, () => {
  let bed: ControlBed;
  let agent: AgentProcess | null = null;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    bed = await ControlBed.create(`imdsf${randomBytes(3).toString('hex')}`, 47);
  });
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    await daemon?.stop();
    daemon = null;
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  /** gcp-metadata's isAvailable() in its own node process: {"available":false} off GCE. */
  const gcpProbe = (): Promise<ClientRun> => runClient(bed.tb, 'host', [process.execPath, GCP_PROBE], AWS_ENV).then((run) => ({ ...run, comm: 'node' }));
  /** curl GET of `path` with `header`; stdout is the status. */
  const curl = (path: string, header: string): Promise<ClientRun> =>
    runClient(bed.tb, 'host', ['curl', '-sS', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', '-H', header, `http://169.254.169.254${path}`]);

  /** A GCE, an Azure and an OCI probe, then curl IMDSv2 (token PUT, token GET). */
  async function probesAndV2(): Promise<{ gcp: ClientRun; azure: ClientRun; oci: ClientRun; put: ClientRun; get: ClientRun }> {
    const gcp = await gcpProbe();
    expect(gcp.stdout.trim()).toBe('{"available":false}');
    const azure = await curl('/metadata/instance?api-version=2021-02-01', 'Metadata: true');
    const oci = await curl('/opc/v2/instance/', 'Authorization: Bearer Oracle');
    const put = await curlToken(bed.tb, 'host');
    const get = await curlWithToken(bed.tb, 'host', put.stdout);
    expect(get.stdout).toBe('200');
    return { gcp, azure, oci, put, get };
  }

  const brief = (e: ImdsRequestEvent): unknown[] => [e.kind, e.probe_cloud, e.status, e.pid, e.comm];

  it('sniff: foreign probes are their own kind, with the cloud and the process; with IMDSv2 callers only, the host is safe (exit 0)', async () => {
    agent = await AgentProcess.start(bed.tb.nsName('host'), ['--no-identity']);
    const r = await probesAndV2();
    expect([r.azure.stdout, r.oci.stdout]).toEqual(['404', '404']);
    const pids = [r.gcp, r.azure, r.oci, r.put, r.get].map((run) => run.pid);
    await agent.waitForRequests(5, 10_000, (e) => pids.includes(e.pid ?? -1));
    const of = (run: ClientRun): unknown[][] => (agent as AgentProcess).requests.filter((e) => e.pid === run.pid).map(brief);
    expect(of(r.gcp)).toEqual([['foreign_probe', 'gce', 404, r.gcp.pid, 'node']]);
    expect(of(r.azure)).toEqual([['foreign_probe', 'azure', 404, r.azure.pid, 'curl']]);
    expect(of(r.oci)).toEqual([['foreign_probe', 'oci', 404, r.oci.pid, 'curl']]);
    expect(of(r.put)).toEqual([['v2_token', null, 200, r.put.pid, 'curl']]);
    expect(of(r.get)).toEqual([['v2_get', null, 200, r.get.pid, 'curl']]);
    expect(agent.requests.find((e) => e.pid === r.gcp.pid)).toMatchObject({ path: '/computeMetadata/v1/instance', user_agent: 'node-fetch', exe: realpathSync(process.execPath) });
    const exit = await agent.stop();
    agent = null;
    expect(exit.code).toBe(0);
    expect(exit.summary?.verdict).toMatchObject({ safe_to_require_imdsv2: true, v1_processes: [], foreign_probe_processes: ['curl', 'node'] });
    expect(exit.summary?.processes.map((p) => [p.name, p.v1, p.v2_token, p.v2_get, p.foreign_probe, p.probe_clouds, p.errors, p.verdict])).toEqual([
      ['curl', 0, 1, 1, 2, ['azure', 'oci'], 0, 'imdsv2_only'],
      ['node', 0, 0, 0, 1, ['gce'], 0, 'foreign_probe_only'],
    ]);
  });

  it("sniff: GCE's header on an AWS path is IMDSv1 (exit 3)", async () => {
    agent = await AgentProcess.start(bed.tb.nsName('host'), ['--no-identity']);
    const run = await curl('/', 'Metadata-Flavor: Google');
    expect(run.stdout).toBe('200');
    await agent.waitForRequests(1, 10_000, (e) => e.pid === run.pid);
    expect(agent.requests.filter((e) => e.pid === run.pid).map(brief)).toEqual([['v1', null, 200, run.pid, 'curl']]);
    const exit = await agent.stop();
    agent = null;
    expect(exit.code).toBe(3);
    expect(exit.summary?.verdict).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: ['curl'] });
  });

  it('daemon + enforce: the state file counts the probes apart, the gate passes and enforces; with tokens required the probes get 401 and stay foreign; metrics count them', async () => {
    const emfFile = join(bed.dir, 'metrics.emf.jsonl');
    const config = join(bed.dir, 'daemon.json');
    writeFileSync(config, JSON.stringify({ metrics: { sink: 'emf', emfFile, interval: '2s' } }));
    daemon = await DaemonProcess.start(bed.tb.nsName('host'), ['--config', config, '--state-dir', bed.stateDir, '--events-file', bed.eventsFile], AWS_ENV);
    await probesAndV2();
    const stateFile = join(bed.stateDir, 'state.json');
    const state = await waitUntil(() => {
      const s = existsSync(stateFile) ? readState(stateFile) : null;
      return s !== null && Date.now() - Date.parse(s.observing_since) > 2_000 && s.processes['node']?.foreign_probe === 1 && (s.processes['curl']?.v2_get ?? 0) > 0 ? s : undefined;
    }, 15_000, 'two seconds of observation with the probes and IMDSv2 calls recorded');
    expect(state.processes['node']).toMatchObject({ v1: 0, v2_token: 0, v2_get: 0, foreign_probe: 1, errors: 0, last_v1_seen: null });
    expect(state.processes['curl']).toMatchObject({ v1: 0, v2_token: 1, v2_get: 1, foreign_probe: 2, errors: 0, last_v1_seen: null });

    const status = await bed.cli(['status', '--min-observation', '2s', '--format', 'json']);
    expect(status.code, status.stderr).toBe(0);
    expect(json(status)).toMatchObject({ verdict: 'ready', observation: { processes: expect.arrayContaining([expect.objectContaining({ process: 'node', v1: 0, foreign_probe: 1 })]) } });
    const r = await bed.cli(['enforce', '--min-observation', '2s', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ result: 'verified', gate: { ok: true, offenders: [] }, verification: { v1: { status: 401 } } });
    expect(await bed.options()).toMatchObject({ HttpTokens: 'required' });

    // Tokens required: the same probes get 401, which tells them "not this cloud" as the 404 did.
    const gcp = await gcpProbe();
    expect(gcp.stdout.trim()).toBe('{"available":false}');
    const azure = await curl('/metadata/instance?api-version=2021-02-01', 'Metadata: true');
    expect(azure.stdout).toBe('401');
    const logged = await waitUntil(() => {
      const lines = readFileSync(bed.eventsFile, 'utf8').split('\n').filter((l) => l.includes('"imds_request"')).map((l) => JSON.parse(l) as ImdsRequestEvent);
      const mine = lines.filter((e) => e.pid === gcp.pid || e.pid === azure.pid);
      return mine.length === 2 ? mine : undefined;
    }, 10_000, 'the events log to hold the probes made under required tokens');
    expect(logged.map(brief)).toEqual([['foreign_probe', 'gce', 401, gcp.pid, 'node'], ['foreign_probe', 'azure', 401, azure.pid, 'curl']]);
    const rb = await bed.cli(['rollback', '--format', 'json']);
    expect(rb.code, rb.stderr).toBe(0);

    expect(await daemon.stop('SIGTERM')).toBe(0); // closes the open metrics interval into the file
    daemon = null;
    const emf = readFileSync(emfFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const sum = (process: string | undefined, metric: string): number =>
      emf.filter((l) => l['Process'] === process).reduce((n, l) => n + ((l[metric] as number | undefined) ?? 0), 0);
    expect([sum('node', 'ForeignCloudProbes'), sum('curl', 'ForeignCloudProbes'), sum(undefined, 'ForeignCloudProbes')]).toEqual([2, 3, 5]);
    expect([sum('node', 'IMDSv1Calls'), sum('node', 'IMDSErrors'), sum('curl', 'IMDSv1Calls'), sum('curl', 'IMDSErrors')]).toEqual([0, 0, 0, 0]);
    const line = emf.find((l) => l['Process'] === 'node' && l['ForeignCloudProbes'] !== undefined) as { _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> } };
    expect(line._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(['ForeignCloudProbes']);
  });

  it('--instance-id: the remote gate reads ForeignCloudProbes from CloudWatch, shows them, and does not count them as IMDSv1', async () => {
    const instanceId = await runInstance(bed.ec2);
    const period = 300_000;
    const end = Math.floor(Date.now() / period) * period;
    const datums = [];
    for (let start = end - 25 * H; start < end; start += period) {
      const calls: Record<string, Partial<ProcessCounts>> = { 'aws-sdk-go': { IMDSv2TokenCalls: 1, IMDSv2Calls: 2 }, node: { ForeignCloudProbes: 1 } };
      const processes = new Map(Object.entries(calls).map(([name, c]) => [name, { ...zeroCounts(), ...c }]));
      datums.push(...intervalDatums({ id: `t${start}`, startMs: start, endMs: start + period, late: false, processes }, { identity: { instanceId, autoScalingGroupName: null }, includeAutoScalingGroup: false }));
    }
    const payload = JSON.stringify(datums.map((d) => ({ ...d, Timestamp: (d.Timestamp as Date).getTime() })));
    execFileSync('ip', ['netns', 'exec', bed.tb.nsName('host'), process.execPath, CW_PUT, bed.moto.endpoint, 'IMDSSniff'], { env: AWS_ENV, input: payload });
    const remote = ['--instance-id', instanceId, '--region', 'us-east-1', '--cloudwatch-endpoint-url', bed.moto.endpoint, '--format', 'json'];
    const status = await bed.cli(['status', ...remote]);
    expect(status.code, status.stderr).toBe(0);
    expect(json(status)).toMatchObject({ verdict: 'ready', observation: { source: 'cloudwatch' } });
    const node = (json(status)['observation']['processes'] as Array<Record<string, unknown>>).find((p) => p['process'] === 'node');
    expect(node).toMatchObject({ v1: 0, v2_get: 0, last_v1_seen: null });
    expect(node?.['foreign_probe']).toBeGreaterThan(200); // one a bucket over the window read back
    const r = await bed.cli(['enforce', ...remote]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ result: 'applied', gate: { ok: true } });
    const rb = await bed.cli(['rollback', '--instance-id', instanceId, '--region', 'us-east-1']);
    expect(rb.code, rb.stderr).toBe(0);
  });
});
