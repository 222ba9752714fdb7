// The daemon end to end: real clients in the testbed, moto as CloudWatch, the events log, the state file,
// SIGTERM / SIGKILL + restart / SIGHUP, and a full disk under the events log.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { curlV1, nodeWithTokenOnCmdline, sdkCredentials } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import { readState } from '../../../src/contract/agent-state.js';
import { DaemonProcess } from '../../helpers/daemon-process.js';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';

const prereq = testbedPrerequisites();
const skip = !prereq.ok ? prereq.reason : motoSkipReason();
const prefix = `imdssm${randomBytes(3).toString('hex')}`;
const READBACK = fileURLToPath(new URL('../../helpers/cloudwatch-readback.mjs', import.meta.url));
const INSTANCE = `i-0${randomBytes(8).toString('hex')}`;
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  // moto 5.2.1 decompresses gzip request bodies twice (HTTP 500); real CloudWatch is fine.
  AWS_DISABLE_REQUEST_COMPRESSION: 'true',
  AWS_PROFILE: undefined,
};

/** Every file below `root`, for the secrets scan. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(root, e.name)) : e.isFile() ? [join(root, e.name)] : []));
}

describe.skipIf(skip !== null)(skip === null ? 'daemon' : `daemon (skipped: ${skip})`, () => {
  let tb: Testbed;
  let moto: MotoServer;
  let dir: string;
  let config: string;
  let tiny = '';

  beforeAll(async () => {
    tb = await createTestbed({
      prefix,
      block: 35,
      mock: { instanceId: INSTANCE, region: 'us-east-1', instanceMetadataTags: 'enabled', tags: { 'aws:autoscaling:groupName': 'web-asg' } },
    });
    moto = await MotoServer.start(undefined, tb.nsName('host'));
    dir = mkdtempSync(join(tmpdir(), 'imds-sniff-daemon-'));
    config = join(dir, 'config.json');
    writeConfig({});
  });

  afterAll(async () => {
    await moto?.stop();
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
    if (tiny && existsSync(tiny)) {
      execFileSync('umount', [tiny]);
      rmdirSync(tiny);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(over: { interval?: string; eventsFile?: string }): void {
    writeFileSync(
      config,
      JSON.stringify({
        stateDir: join(dir, 'state'),
        logs: { eventsFile: over.eventsFile ?? join(dir, 'events.jsonl'), summaryInterval: '2s' },
        metrics: { endpointUrl: moto.endpoint, interval: over.interval ?? '2s', includeAutoScalingGroup: true },
      }),
    );
  }

  /** Metric sums as CloudWatch (moto) has them: {"IMDSv1Calls|curl": 5, "IMDSv1Calls|*": 5, …}. */
  function readback(): Record<string, number> {
    const out = execFileSync('ip', ['netns', 'exec', tb.nsName('host'), process.execPath, READBACK, moto.endpoint, 'IMDSSniff', INSTANCE], { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(out) as Record<string, number>;
  }

  async function expectMetrics(expected: Record<string, number>): Promise<void> {
    await vi.waitFor(() => expect(readback()).toMatchObject(expected), { timeout: 25_000, interval: 1000 });
  }

  it('publishes exact per-process and instance counts, logs every request and keeps totals', async () => {
    const daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    expect(daemon.lines.find((l) => l.msg === 'identity')).toMatchObject({ instanceId: INSTANCE, region: 'us-east-1', autoScalingGroup: 'web-asg' });
    for (let i = 0; i < 3; i++) expect((await curlV1(tb, 'host')).stdout).toBe('200');
    expect(JSON.parse((await sdkCredentials(tb, 'host')).stdout)).toMatchObject({ ok: true });
    for (let i = 0; i < 2; i++) expect((await curlV1(tb, 'ctr')).stdout).toBe('200');
    const expected = {
      'IMDSv1Calls|curl': 5,
      'IMDSv2TokenCalls|node': 1,
      'IMDSv2Calls|node': 2,
      'IMDSv1Calls|*': 5,
      'IMDSv2TokenCalls|*': 1,
      'IMDSv2Calls|*': 2,
      'IMDSErrors|*': 0,
    };
    await expectMetrics(expected);
    await daemon.waitFor((l) => l.msg === 'interval summary', 10_000, 'an interval summary');
    const started = Date.now();
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(6000);
    // nothing was sent twice, also not by the shutdown flush
    expect(readback()).toMatchObject(expected);
    // no zero-valued process series: node never used IMDSv1
    expect(readback()['IMDSv1Calls|node']).toBeUndefined();

    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; kind?: string; own?: boolean });
    const requests = lines.filter((l) => l.event === 'imds_request' && !l.own);
    expect(requests.filter((l) => l.kind === 'v1')).toHaveLength(5);
    expect(requests.filter((l) => l.kind === 'v2_token' || l.kind === 'v2_get')).toHaveLength(3);
    expect(lines.some((l) => l.event === 'interval_summary')).toBe(true);
    expect(statSync(join(dir, 'events.jsonl')).mode & 0o777).toBe(0o640);

    const state = readState(join(dir, 'state', 'state.json'));
    expect(state?.processes['curl']).toMatchObject({ v1: 5, v2_token: 0 });
    expect(state?.processes['curl']?.last_v1_seen).toMatch(/^\d{4}-/);
    expect(state?.processes['node']).toMatchObject({ v1: 0, v2_token: 1, v2_get: 2, last_v1_seen: null });
  });

  it('loses and doubles nothing across SIGKILL and a restart', async () => {
    writeConfig({ interval: '10s' }); // the interval is still open when the daemon is killed
    const first = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    for (let i = 0; i < 2; i++) await curlV1(tb, 'host');
    const statePath = join(dir, 'state', 'state.json');
    await vi.waitFor(() => expect(readState(statePath)?.processes['curl']?.v1).toBe(7), { timeout: 10_000, interval: 200 });
    expect(await first.stop('SIGKILL')).toBe(null);
    const second = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    await curlV1(tb, 'host');
    await expectMetrics({ 'IMDSv1Calls|curl': 8, 'IMDSv1Calls|*': 8 });
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(readback()).toMatchObject({ 'IMDSv1Calls|curl': 8, 'IMDSv2Calls|node': 2 });
    expect(readState(statePath)?.processes['curl']?.v1).toBe(8);
  });

  it('reopens the events log on SIGHUP (logrotate)', async () => {
    writeConfig({});
    const daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    const log = join(dir, 'events.jsonl');
    renameSync(log, `${log}.1`);
    daemon.child.kill('SIGHUP');
    await daemon.waitFor((l) => String(l.msg).startsWith('SIGHUP'), 5000, 'the SIGHUP line');
    const run = await curlV1(tb, 'host', '/latest/meta-data/ami-id');
    await vi.waitFor(() => expect(existsSync(log) && readFileSync(log, 'utf8')).toContain(`"pid":${run.pid}`), { timeout: 5000, interval: 100 });
    expect(readFileSync(`${log}.1`, 'utf8')).not.toContain(`"pid":${run.pid}`);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });

  it('keeps capturing and publishing when the events log disk is full', async () => {
    tiny = mkdtempSync(join(tmpdir(), 'imds-sniff-tinyfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', tiny]);
    writeFileSync(join(tiny, 'filler'), Buffer.alloc(8 * 1024 - 512)); // leave almost nothing
    writeConfig({ eventsFile: join(tiny, 'events.jsonl') });
    const daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    for (let i = 0; i < 20; i++) await curlV1(tb, 'host', '/latest/meta-data/hostname');
    await daemon.waitFor((l) => l.level === 'warn' && String(l.msg).includes('disk full'), 10_000, 'the disk-full warning');
    await expectMetrics({ 'IMDSv1Calls|curl': 29 }); // 8 before, 1 in the SIGHUP test, 20 now
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(daemon.lines.find((l) => l.msg === 'stopped')?.['droppedLogLines']).toBeGreaterThan(0);
  });

  it('writes Embedded Metric Format lines with --metrics-sink emf, with no AWS call', async () => {
    writeConfig({});
    const emf = join(dir, 'metrics.emf.jsonl');
    const json = JSON.parse(readFileSync(config, 'utf8')) as { metrics: Record<string, unknown> };
    json.metrics['emfFile'] = emf;
    writeFileSync(config, JSON.stringify(json));
    const before = readback();
    const daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config, '--metrics-sink', 'emf', '--state-dir', join(dir, 'emf-state')], ENV);
    for (let i = 0; i < 2; i++) await curlV1(tb, 'host', '/latest/meta-data/instance-type');
    expect(await daemon.stop('SIGTERM')).toBe(0); // closes the open interval into the file
    const lines = readFileSync(emf, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } });
    // the two calls may fall into two 2 s intervals: one EMF line per interval and process
    const curl = lines.filter((l) => l['Process'] === 'curl');
    expect(curl.length).toBeGreaterThan(0);
    for (const line of curl) {
      expect(line).toMatchObject({ InstanceId: INSTANCE, IMDSv1Calls: expect.any(Number) });
      expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'IMDSSniff', Dimensions: [['InstanceId', 'Process']] });
    }
    expect(curl.reduce((sum, l) => sum + (l['IMDSv1Calls'] as number), 0)).toBe(2);
    expect(readback()).toEqual(before); // nothing went to CloudWatch
  });

  it('runs off EC2 with the metrics held (asking IMDS again in the background), says why, and stops at once', async () => {
    const bare = `${prefix}-bare`;
    execFileSync('ip', ['netns', 'add', bare]);
    let daemon: DaemonProcess | undefined;
    try {
      execFileSync('ip', ['-n', bare, 'link', 'set', 'lo', 'up']);
      const ready = join(dir, 'bare-ready');
      const started = await DaemonProcess.start(bare, ['--state-dir', join(dir, 'bare-state'), '--events-file', 'none', '--ready-file', ready], ENV);
      daemon = started;
      // The unit's readiness: written once capturing (DaemonProcess.start waits for that line), removed at stop.
      await vi.waitFor(() => expect(readFileSync(ready, 'utf8')).toBe(`${started.child.pid}\n`), { timeout: 5000, interval: 50 });
      expect(daemon.lines.find((l) => String(l.msg).startsWith('metrics held until IMDS gives the instance identity'))).toMatchObject({ level: 'warn', reason: expect.stringMatching(/no instance id/) });
      expect(daemon.lines.find((l) => l.msg === 'identity')?.['note']).toMatch(/no answer from IMDS/);
      expect(await daemon.stop('SIGINT')).toBe(0);
      expect(existsSync(ready)).toBe(false);
    } finally {
      await daemon?.stop('SIGKILL');
      execFileSync('ip', ['netns', 'del', bare]);
    }
  });

  it('started before IMDS answers (at boot, before the network), holds the metrics and publishes them once it has the identity', async () => {
    const before = readback()['IMDSv1Calls|curl'] ?? 0;
    const path = '/latest/meta-data/placement/availability-zone';
    await tb.mock.setOptions({ httpEndpoint: 'disabled' }); // 403 to everything, the identity calls included
    let daemon: DaemonProcess | undefined;
    try {
      daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config, '--state-dir', join(dir, 'late-state')], ENV);
      expect(daemon.lines.find((l) => String(l.msg).startsWith('metrics held until IMDS gives the instance identity'))).toMatchObject({ level: 'warn', reason: expect.stringMatching(/no instance id/) });
      for (let i = 0; i < 3; i++) expect((await curlV1(tb, 'host', path)).stdout).toBe('403');
      // All three counted (in the events log) before IMDS answers again.
      await vi.waitFor(() => expect(readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes(`"path":"${path}"`) && l.includes('"status":403'))).toHaveLength(3), { timeout: 10_000, interval: 100 });
      await tb.mock.setOptions({ httpEndpoint: 'enabled' });
      const started = await daemon.waitFor((l) => l.msg === 'metrics publishing started', 30_000, 'the metrics to start once IMDS answers');
      expect(started).toMatchObject({ held: 3, dropped: 0, metrics: 'cloudwatch' });
      expect(daemon.lines.filter((l) => l.msg === 'identity').at(-1)).toMatchObject({ instanceId: INSTANCE, note: expect.stringMatching(/found \d+ s after start/) });
      await expectMetrics({ 'IMDSv1Calls|curl': before + 3 });
      expect(await daemon.stop('SIGTERM')).toBe(0);
    } finally {
      await tb.mock.setOptions({ httpEndpoint: 'enabled' });
      await daemon?.stop('SIGKILL');
    }
  });

  it('reloads the config on SIGHUP: a new events file and logV2 apply at once', async () => {
    writeConfig({});
    const daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    const json = JSON.parse(readFileSync(config, 'utf8')) as { logs: Record<string, unknown> };
    const log = join(dir, 'rotated-dir', 'events-new.jsonl'); // its directory does not exist yet
    json.logs['logV2'] = 'none';
    json.logs['eventsFile'] = log;
    writeFileSync(config, JSON.stringify(json));
    daemon.child.kill('SIGHUP');
    await daemon.waitFor((l) => String(l.msg).startsWith('SIGHUP') && l['logV2'] === 'none', 5000, 'the reload');
    const sdk = await sdkCredentials(tb, 'host');
    const v1 = await curlV1(tb, 'host', '/latest/meta-data/local-ipv4');
    await vi.waitFor(() => expect(readFileSync(log, 'utf8')).toContain(`"pid":${v1.pid}`), { timeout: 5000, interval: 100 });
    expect(readFileSync(log, 'utf8')).not.toContain(`"pid":${sdk.pid}`);
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8')).not.toContain(`"pid":${v1.pid}`);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });

  it('writes no token or credential to the events log, state, buffer, status log or metrics', async () => {
    const canary = { token: `AQAEADAEMONCANARY${randomBytes(10).toString('hex')}==`, secret: `daemonCanarySecret${randomBytes(10).toString('hex')}`, session: `IQoJdaemonCanary${randomBytes(10).toString('hex')}` };
    await tb.mock.setOptions({ fixedToken: canary.token, credentials: { accessKeyId: 'ASIADAEMONCANARY0000', secretAccessKey: canary.secret, token: canary.session, expiration: null } });
    writeConfig({});
    const daemon = await DaemonProcess.start(tb.nsName('host'), ['--config', config], ENV);
    const sdk = await sdkCredentials(tb, 'host');
    expect(JSON.parse(sdk.stdout)).toMatchObject({ ok: true });
    const cmdline = await nodeWithTokenOnCmdline(tb, 'host', canary.token);
    expect(cmdline.stdout).toBe('200');
    await vi.waitFor(() => expect(readFileSync(join(dir, 'events.jsonl'), 'utf8')).toContain(`"pid":${cmdline.pid}`), { timeout: 5000, interval: 100 });
    expect(await daemon.stop('SIGTERM')).toBe(0);
    const everything = [daemon.raw, JSON.stringify(readback()), ...filesUnder(dir).map((f) => readFileSync(f, 'latin1'))].join('\n');
    for (const secret of [canary.token, canary.secret, canary.session, 'ASIADAEMONCANARY0000']) expect(everything).not.toContain(secret);
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8')).toContain('X-aws-ec2-metadata-token: [redacted]');
    await tb.mock.setOptions({ fixedToken: null });
  });

  it('rejects a bad config file naming the field, before capturing', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ metrics: { interval: 'often' } }));
    const r = await tb.exec('host', [process.execPath, fileURLToPath(new URL('../../../dist/src/main.js', import.meta.url)), 'daemon', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^imds-sniff: config .*bad\.json: metrics\.interval: "often" is not a duration/);
    mkdirSync(join(dir, 'unused'), { recursive: true });
  });
});
