// status / enforce / rollback end to end: the real CLI in the testbed's host namespace, moto as EC2 (and CloudWatch),
// the mock IMDS following the moto instance's options, so verification sees real 401s and 200s.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { intervalDatums } from '../../../src/sinks/metrics/datums.js';
import { zeroCounts, type ProcessCounts } from '../../../src/sinks/metrics/interval-counts.js';
import { readState } from '../../../src/contract/agent-state.js';
import { curlToken, curlV1, curlWithToken, sdkCredentials } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { DaemonProcess } from '../../helpers/daemon-process.js';
import { ec2Call, runInstance } from '../../helpers/ec2-call.js';
import { EC2_INTERNAL_ERROR, EC2_THROTTLED, EC2_UNAUTHORIZED, Ec2FaultProxy, failNext } from '../../helpers/ec2-fault-proxy.js';
import { motoSkipReason } from '../../helpers/moto.js';
import { AWS_ENV, ControlBed, json } from './harness.js';
import { waitUntil } from '../../helpers/wait-until.js';

const prereq = testbedPrerequisites();
const skip = !prereq.ok ? prereq.reason : motoSkipReason();
const H = 3_600_000;
const CW_PUT = fileURLToPath(new URL('../../helpers/cloudwatch-put.mjs', import.meta.url));

describe.skipIf(skip !== null)(skip === null ? 'control commands' : `control commands (skipped: ${skip})`, () => {
  let bed: ControlBed;
  const proxies: Ec2FaultProxy[] = [];

  beforeAll(async () => {
    bed = await ControlBed.create(`imdsc${randomBytes(3).toString('hex')}`, 45);
  });
  afterAll(async () => {
    for (const p of proxies) await p.stop();
    await bed?.destroy();
  });
  beforeEach(async () => {
    await bed.reset();
  });

  /** A fault proxy in the host namespace in front of moto. */
  async function proxy(faults: Parameters<typeof Ec2FaultProxy.start>[0]['faults'] = {}): Promise<Ec2FaultProxy> {
    const p = await Ec2FaultProxy.start({ target: bed.moto.endpoint, netns: bed.tb.nsName('host'), faults });
    proxies.push(p);
    return p;
  }

  const v2Only = (): void => bed.writeState(Date.now() - 30 * H, { python3: { v2_token: 4, v2_get: 40, last_seen: new Date(Date.now() - H).toISOString() } });
  const withV1Caller = (): void =>
    bed.writeState(Date.now() - 30 * H, {
      'legacy-cron': { v1: 12, last_v1_seen: new Date(Date.now() - 2 * H).toISOString() },
      python3: { v2_token: 4, v2_get: 40 },
    });

  describe('on this instance', () => {
    it('status: the options from EC2 next to the state file, verdict not ready naming the IMDSv1 caller (exit 3)', async () => {
      withV1Caller();
      await bed.tb.mock.clearRequests();
      const r = await bed.cli(['status', '--format', 'json']);
      expect(r.code, r.stderr).toBe(3);
      // The identity came from IMDS the IMDSv2 way, and status asked nothing else of it.
      const asked = await bed.tb.mock.requests();
      expect(asked.map((q) => q.kind)).toEqual(['token', 'v2']);
      expect(asked.map((q) => q.path)).toEqual(['/latest/api/token', '/latest/dynamic/instance-identity/document']);
      const out = json(r);
      expect(out).toMatchObject({ event: 'status', instance_id: bed.instanceId, region: 'us-east-1', this_host: true, verdict: 'not ready: legacy-cron' });
      expect(out['options']).toEqual({ State: 'applied', HttpTokens: 'optional', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1, HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled' });
      expect(out['observation'].processes.map((p: { process: string; v1: number; last_v1_seen: string | null }) => [p.process, p.v1, p.last_v1_seen !== null])).toEqual([
        ['legacy-cron', 12, true],
        ['python3', 0, false],
      ]);
      const table = await bed.cli(['status']);
      expect(table.code).toBe(3);
      expect(table.stdout).toMatch(/options +HttpTokens=optional HttpEndpoint=enabled HopLimit=1 .*State=applied/);
      expect(table.stdout).toMatch(/legacy-cron +12 /);
      expect(table.stdout).toMatch(/verdict +not ready: legacy-cron/);
    });

    it('enforce refuses while an IMDSv1 caller is in the window (exit 6): nothing changes in EC2 or on the host', async () => {
      withV1Caller();
      const r = await bed.cli(['enforce', '--format', 'json']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/imds-sniff: not changing instance i-\w+: IMDSv1 callers seen: legacy-cron; nothing was changed \[ERR_GATE_REFUSED\]\n/);
      expect(r.stderr).toMatch(/hint: .*--force overrides/);
      // One JSON object: the report carries the code; no second error object follows it.
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      expect(json(r)).toMatchObject({ result: 'refused', gate: { ok: false, offenders: ['legacy-cron'] }, error_code: 'ERR_GATE_REFUSED', exit_code: 6 });
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
      expect(bed.changes()).toEqual([]);
      expect(bed.auditLines()).toEqual([]);
      expect((await curlV1(bed.tb, 'host')).stdout).toBe('200');
    });

    it('enforce with only IMDSv2 callers for 30 h: required, applied, verified 401/200 here, recorded, audited; rollback undoes it', async () => {
      v2Only();
      const r = await bed.cli(['enforce', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const out = json(r);
      expect(out).toMatchObject({ result: 'verified', forced: false, this_host: true, requested: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 } });
      expect(out['verification']).toMatchObject({ ok: true, v1: { expected: 401, status: 401 }, v2: { expected: 200, status: 200 } });
      expect(await bed.options()).toMatchObject({ HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1, State: 'applied' });
      expect((await curlV1(bed.tb, 'host')).stdout).toBe('401');
      const [record] = bed.changes();
      expect(record).toMatchObject({ action: 'enforce', result: 'applied', local: true, forced: false, rolled_back_at: null, before: { httpTokens: 'optional' }, after: { httpTokens: 'required' } });
      expect(record?.['by']).toMatchObject({ user: 'root', uid: 0, command: expect.stringMatching(/^imds-sniff enforce --format json/) });
      expect(bed.auditLines()).toMatchObject([{ event: 'metadata_options_change', action: 'enforce', result: 'verified', before: { HttpTokens: 'optional' }, after: { HttpTokens: 'required' }, forced: false, min_observation_ms: 86_400_000, window_start: expect.any(String) }]);

      const status = await bed.cli(['status', '--format', 'json']);
      expect(status.code).toBe(0);
      expect(json(status)['verdict']).toBe('already enforced');
      const again = await bed.cli(['enforce', '--format', 'json']);
      expect(again.code).toBe(0);
      expect(json(again)['result']).toBe('already_enforced');

      const rb = await bed.cli(['rollback', '--format', 'json']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(json(rb)).toMatchObject({ result: 'verified', verification: { v1: { expected: 200, status: 200 }, v2: { expected: 200, status: 200 } } });
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
      expect((await curlV1(bed.tb, 'host')).stdout).toBe('200');
      expect(bed.auditLines().map((l) => [l['action'], l['result']])).toEqual([['enforce', 'verified'], ['rollback', 'verified']]);
      expect(bed.changes()[0]?.['rolled_back_at']).toEqual(expect.any(String));
      const nothing = await bed.cli(['rollback']);
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toMatch(/nothing to roll back: no enforce recorded in .*changes\.json/);
    });

    it('--force enforces despite the IMDSv1 caller, with a warning and forced in the audit line', async () => {
      withV1Caller();
      const r = await bed.cli(['enforce', '--force', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: --force: changing instance i-\w+ although the gate refuses: IMDSv1 calls in the last 1d by: legacy-cron/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'required' });
      expect(bed.auditLines()).toMatchObject([{ action: 'enforce', forced: true, result: 'verified', gate_reasons: [expect.stringMatching(/legacy-cron/)] }]);
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('--dry-run asks EC2 with DryRun and changes nothing; with the gate refusing it exits 6', async () => {
      const p = await proxy();
      v2Only();
      const r = await bed.cli(['enforce', '--dry-run', '--format', 'json'], { endpoint: p.endpoint });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)['result']).toBe('dry_run_ok');
      expect((await p.calls('ModifyInstanceMetadataOptions')).map((c) => [c.dryRun, c.outcome])).toEqual([[true, 'dry-run']]);
      withV1Caller();
      const refused = await bed.cli(['enforce', '--dry-run'], { endpoint: p.endpoint });
      expect(refused.code).toBe(6);
      expect(refused.stdout).toMatch(/dry run: EC2 would accept the change with these credentials, but the gate refuses; nothing was changed/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
      expect(bed.changes()).toEqual([]);
      expect(bed.auditLines()).toEqual([]);
    });

    it('an endpoint that ignores DryRun (moto 5.2.1 does, for this call) is reported, not taken for a dry run (exit 5)', async () => {
      v2Only();
      const r = await bed.cli(['enforce', '--dry-run']); // straight to moto, no fault proxy
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/ModifyInstanceMetadataOptions on i-\w+: the endpoint ignored DryRun and may have changed it/);
      expect(r.stderr).toMatch(/hint: check it with imds-sniff status/);
      expect(bed.changes()).toEqual([]);
    });

    it('waits while EC2 says State=pending, then verifies', async () => {
      const p = await proxy({ pendingDescribes: 3 });
      v2Only();
      const r = await bed.cli(['enforce', '--format', 'json'], { endpoint: p.endpoint });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ result: 'verified' });
      expect(json(r)['applied_after_ms']).toBeGreaterThanOrEqual(1000);
      expect((await p.requests()).filter((c) => c.outcome === 'pending')).toHaveLength(3);
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('a change that stays pending past --timeout fails with exit 5 and an audit line', async () => {
      const p = await proxy({ pendingDescribes: 'all' });
      v2Only();
      const r = await bed.cli(['enforce', '--timeout', '3s', '--format', 'json'], { endpoint: p.endpoint });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/the change is still pending after \d+ s/);
      // a fleet run that parses stdout learns how it ended, too
      expect(json(r)).toMatchObject({ result: 'not_applied', error: expect.stringMatching(/still pending/) });
      expect(bed.auditLines()).toMatchObject([{ action: 'enforce', result: 'not_applied' }]);
      expect(bed.changes()).toMatchObject([{ result: 'applied' }]);
    });

    it('someone else changing the instance while enforce waits for its change: exit 7, ERR_CHANGED_AFTER_APPLY (the change was sent; the instance is theirs now)', async () => {
      const p = await proxy({ pendingDescribes: 'all' });
      v2Only();
      const running = bed.cli(['enforce', '--timeout', '60s'], { endpoint: p.endpoint });
      await p.waitForRequests((rs) => rs.some((c) => c.action === 'ModifyInstanceMetadataOptions') && rs.filter((c) => c.outcome === 'pending').length >= 2, 30_000);
      await bed.setOptions({ HttpTokens: 'required', HttpPutResponseHopLimit: 3 });
      const r = await running;
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/now reads HttpTokens=required HttpEndpoint=enabled HopLimit=3 .*someone else changed it meanwhile \[ERR_CHANGED_AFTER_APPLY\]\n/);
      expect(bed.auditLines()).toMatchObject([{ result: 'changed_meanwhile' }]);
    });

    it('throttling is retried with backoff; still throttled after 6 attempts is exit 5 with what to do', async () => {
      const p = await proxy({ fail: [failNext('ModifyInstanceMetadataOptions', 2, EC2_THROTTLED)] });
      v2Only();
      const ok = await bed.cli(['enforce'], { endpoint: p.endpoint });
      expect(ok.code, ok.stderr).toBe(0);
      expect((await p.calls('ModifyInstanceMetadataOptions')).map((c) => c.outcome)).toEqual(['fault', 'fault', 'forwarded']);
      expect((await bed.cli(['rollback'])).code).toBe(0);

      await p.setFaults({ fail: [failNext('ModifyInstanceMetadataOptions', 'all', EC2_THROTTLED)] });
      const throttled = await bed.cli(['enforce'], { endpoint: p.endpoint });
      expect(throttled.code).toBe(5);
      expect(throttled.stderr).toMatch(/ModifyInstanceMetadataOptions on i-\w+ in us-east-1: throttled by AWS \(RequestLimitExceeded\), still after retries/);
      expect(throttled.stderr).toMatch(/hint: run it again in a minute/);
      // Six attempts: an earlier one may have got through, and the instance was read to see. It had not.
      expect(bed.changes().at(-1)).toMatchObject({ action: 'enforce', result: 'unknown' });
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
    });

    it('UnauthorizedOperation names the IAM actions; nothing changed; the record says failed', async () => {
      const p = await proxy({ fail: [failNext('ModifyInstanceMetadataOptions', 'all', EC2_UNAUTHORIZED)] });
      v2Only();
      const r = await bed.cli(['enforce'], { endpoint: p.endpoint });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/not authorized \(UnauthorizedOperation\)/);
      expect(r.stderr).toMatch(/hint: the caller's IAM policy must allow ec2:DescribeInstances, ec2:ModifyInstanceMetadataOptions/);
      expect(r.stderr).not.toMatch(/Encoded authorization failure message/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|Warning:/); // nor the SDK's notice about Node 20
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
      expect(bed.changes()).toMatchObject([{ result: 'failed' }]);
      expect(bed.auditLines()).toMatchObject([{ result: 'failed' }]);
      const dry = await bed.cli(['enforce', '--dry-run'], { endpoint: p.endpoint });
      expect(dry.code).toBe(5);
      expect(dry.stderr).toMatch(/not authorized/);
    });

    it('container token requests lost at the hop limit: enforce raises it to 2 and the container gets its token; --hop-limit 1 is refused', async () => {
      bed.writeState(Date.now() - 30 * H, { 'ctr-0123456789ab/python3': { v2_token: 3, hop_limit_exceeded: 3, last_hop_limit_exceeded: new Date(Date.now() - H).toISOString(), container_id: '0123456789ab' } });
      const lost = await curlToken(bed.tb, 'ctr', undefined, 2);
      expect([lost.code, lost.stdout]).toEqual([28, '']); // curl timed out: the answer died at the hop
      const one = await bed.cli(['enforce', '--hop-limit', '1']);
      expect(one.code).toBe(6);
      expect(one.stdout).toMatch(/hop limit 1 would break them/);
      const status = await bed.cli(['status']);
      expect(status.stdout).toMatch(/ctr-0123456789ab\/python3 +0 +- +3 +0 +0 +3 /); // FOREIGN PROBES 0, then the HOP-LIMIT LOST column
      expect(status.stdout).toMatch(/hop limit +enforce would set 2: raised to 2: container token requests were lost at hop limit 1/);
      expect(status.stdout).toMatch(/- hop-limit failures: ctr-0123456789ab\/python3 \(3 lost, last \d{4}-/);
      const r = await bed.cli(['enforce', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)['hop_limit_note']).toMatch(/raised to 2: container token requests were lost at hop limit 1/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
      const token = await waitUntil(async () => {
        const t = await curlToken(bed.tb, 'ctr');
        return t.code === 0 ? t : undefined;
      }, 10_000, 'a token from the container');
      expect(token.stdout.length).toBeGreaterThan(0);
      expect((await bed.cli(['rollback'])).code).toBe(0);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 1 });
    });

    it('--disable-endpoint is refused while anything calls IMDS; with no caller IMDS answers 403 and rollback brings it back', async () => {
      v2Only();
      const refused = await bed.cli(['enforce', '--disable-endpoint']);
      expect(refused.code).toBe(6);
      expect(refused.stdout).toMatch(/IMDS calls \(--disable-endpoint needs none\) in the last 1d by: python3/);
      bed.writeState(Date.now() - 30 * H, {});
      const r = await bed.cli(['enforce', '--disable-endpoint', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)['verification']).toMatchObject({ ok: true, v1: { expected: 403, status: 403 }, v2: { expected: 403, status: 403 } });
      expect(await bed.options()).toMatchObject({ HttpEndpoint: 'disabled', HttpTokens: 'required' });
      // IMDS is off here now: the host's identity comes from the record.
      const rb = await bed.cli(['rollback', '--format', 'json']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(json(rb)).toMatchObject({ this_host: true, result: 'verified', verification: { v1: { status: 200 } } });
      expect(await bed.options()).toMatchObject({ HttpEndpoint: 'enabled', HttpTokens: 'optional' });
    });

    it('rollback refuses when someone else changed the instance since enforce (exit 6); --force restores', async () => {
      v2Only();
      expect((await bed.cli(['enforce'])).code).toBe(0);
      await bed.setOptions({ HttpTokens: 'required', HttpPutResponseHopLimit: 3 });
      const r = await bed.cli(['rollback']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/was changed since enforce set it .*now HttpTokens=required HttpEndpoint=enabled HopLimit=3/);
      expect(await bed.options()).toMatchObject({ HttpPutResponseHopLimit: 3 });
      const forced = await bed.cli(['rollback', '--force', '--format', 'json']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toMatch(/warning: --force/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 1 });
    });

    it('no token or credential reaches the output, the audit line or the record (role credentials in use, an error path with --debug)', async () => {
      const canary = `CANARYTOKEN${randomBytes(12).toString('hex')}`;
      const secret = `CANARYSECRET${randomBytes(12).toString('hex')}`;
      await bed.tb.mock.setOptions({ fixedToken: canary, credentials: { accessKeyId: 'ASIACANARY0000000000', secretAccessKey: secret, token: `${canary}SESSION`, expiration: null } });
      // No keys in the environment: the CLI reads the canary role credentials from the mock IMDS.
      const env = { ...AWS_ENV, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
      const p = await proxy();
      try {
        v2Only();
        const outputs = [
          await bed.cli(['status', '--format', 'json'], { env }),
          await bed.cli(['enforce', '--format', 'json'], { env }),
          await bed.cli(['status'], { env }),
          await bed.cli(['--debug', 'rollback'], { env }),
        ];
        expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0]);
        await p.setFaults({ fail: [failNext('ModifyInstanceMetadataOptions', 'all', EC2_UNAUTHORIZED)] });
        const failed = await bed.cli(['--debug', 'enforce'], { env, endpoint: p.endpoint });
        expect(failed.code).toBe(5);
        // The CLI did read the canary role credentials from IMDS (so they were in its memory).
        expect((await bed.tb.mock.requests()).some((r) => r.path.endsWith('/security-credentials/imds-sniff-test-role') && r.status === 200)).toBe(true);
        const everything = [...outputs, failed].flatMap((o) => [o.stdout, o.stderr]).concat(readFileSync(bed.eventsFile, 'utf8'), readFileSync(join(bed.stateDir, 'changes.json'), 'utf8')).join('\n');
        expect(everything).not.toContain(canary);
        expect(everything).not.toContain(secret);
      } finally {
        await bed.tb.mock.setOptions({ fixedToken: null });
      }
    });

    it.each([
      ['observed for 3 h only', (): void => bed.writeState(Date.now() - 3 * H, { python3: { v2_get: 4 } }), /observed for 3h only, 1d required/],
      ['stopped for 2 h inside the window', (): void => bed.writeState(Date.now() - 30 * H, { python3: { v2_get: 4 } }, [{ from: new Date(Date.now() - 10 * H).toISOString(), to: new Date(Date.now() - 8 * H).toISOString() }]), /not observing from .* \(2h\)/],
    ])('enforce refuses with only IMDSv2 callers when the agent %s (exit 6): nothing changes', async (_n, write, reason) => {
      write();
      const r = await bed.cli(['enforce']);
      expect(r.code).toBe(6);
      expect(r.stdout).toMatch(reason);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(r.stderr).toMatch(/hint: let imds-sniff daemon observe for the whole window first/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
      expect(bed.changes()).toEqual([]);
    });

    it.each([
      ['the change record cannot be written', (): string => (mkdirSync(join(bed.stateDir, 'changes.json'), { recursive: true }), bed.eventsFile), /cannot read .*changes\.json/],
      ['the audit log cannot be written', (): string => (writeFileSync(join(bed.dir, 'not-a-dir'), ''), join(bed.dir, 'not-a-dir', 'events.jsonl')), /cannot append to the audit log .*not-a-dir/],
    ])('a change is not made when %s: the gate passed, no EC2 call, exit 2', async (_n, breakIt, message) => {
      v2Only();
      const eventsFile = breakIt();
      const p = await proxy();
      const r = await bed.cli(['enforce', '--endpoint-url', p.endpoint, '--state-dir', bed.stateDir, '--events-file', eventsFile], { withDefaults: false });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(await p.calls('ModifyInstanceMetadataOptions')).toEqual([]);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
      expect(bed.auditLines()).toEqual([]);
    });

    it('a change answered only by 500s (EC2 never made it) is recorded as unknown and stays open; rollback then finds the options as they were', async () => {
      const p = await proxy({ fail: [failNext('ModifyInstanceMetadataOptions', 'all', EC2_INTERNAL_ERROR)] });
      v2Only();
      const r = await bed.cli(['enforce', '--format', 'json'], { endpoint: p.endpoint });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/InternalError.*the change may have been made all the same/);
      expect(r.stderr).toMatch(/hint: run imds-sniff status: if it was made, imds-sniff rollback restores/);
      expect(json(r)).toMatchObject({ result: 'unknown' });
      expect(bed.changes()).toMatchObject([{ action: 'enforce', result: 'unknown', rolled_back_at: null }]);
      expect(bed.auditLines()).toMatchObject([{ action: 'enforce', result: 'unknown' }]);
      const rb = await bed.cli(['rollback', '--format', 'json']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(json(rb)['result']).toBe('already_restored');
      expect(bed.changes()[0]?.['rolled_back_at']).toEqual(expect.any(String));
    });

    it('a change EC2 made but whose answers were lost (500s after retries) is found by reading the instance: applied, verified, recorded', async () => {
      const p = await proxy({ fail: [{ ...failNext('ModifyInstanceMetadataOptions', 'all', EC2_INTERNAL_ERROR), afterForward: true }] });
      v2Only();
      const r = await bed.cli(['enforce', '--format', 'json'], { endpoint: p.endpoint });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ result: 'verified', verification: { v1: { status: 401 }, v2: { status: 200 } } });
      expect((await p.calls('ModifyInstanceMetadataOptions')).every((c) => c.outcome === 'lost-answer')).toBe(true);
      expect(bed.changes()).toMatchObject([{ action: 'enforce', result: 'applied' }]);
      expect(bed.auditLines()).toMatchObject([{ action: 'enforce', result: 'verified' }]);
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('keeps waiting through throttled DescribeInstances after the change, then verifies', { timeout: 150_000 }, async () => {
      const p = await proxy({ pendingDescribes: 'all' });
      v2Only();
      const running = bed.cli(['enforce', '--format', 'json'], { endpoint: p.endpoint });
      await p.waitForRequests((rs) => rs.some((c) => c.action === 'ModifyInstanceMetadataOptions') && rs.some((c) => c.outcome === 'pending'), 30_000);
      // As many throttled answers as the SDK tries one call (6 attempts): a whole DescribeInstances fails.
      await p.setFaults({ fail: [failNext('DescribeInstances', 6, EC2_THROTTLED)] });
      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ result: 'verified' });
      expect((await p.calls('DescribeInstances')).filter((c) => c.outcome === 'fault')).toHaveLength(6);
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('one change at a time per state directory: a second enforce while the first waits is refused (exit 6)', async () => {
      const p = await proxy({ pendingDescribes: 'all' });
      v2Only();
      const first = bed.cli(['enforce', '--timeout', '60s'], { endpoint: p.endpoint });
      await p.waitForRequests((rs) => rs.some((c) => c.action === 'ModifyInstanceMetadataOptions'), 30_000);
      // Asks for more than the first one set (else it would find the instance already enforced), and rollback too.
      const second = await bed.cli(['enforce', '--hop-limit', '3'], { endpoint: p.endpoint });
      expect(second.code).toBe(6);
      const rollback = await bed.cli(['rollback'], { endpoint: p.endpoint });
      expect([rollback.code, rollback.stderr]).toEqual([6, expect.stringMatching(/another imds-sniff enforce or rollback \(pid \d+\)/)]);
      expect(second.stderr).toMatch(/another imds-sniff enforce or rollback \(pid \d+\) is changing options recorded in .*changes\.json; nothing was changed/);
      await p.setFaults({});
      expect((await first).code).toBe(0);
      expect(bed.changes()).toHaveLength(1);
      expect(existsSync(join(bed.stateDir, 'changes.json.lock'))).toBe(false);
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('rollback --dry-run asks EC2 with DryRun and leaves the change and its record as they are', async () => {
      v2Only();
      expect((await bed.cli(['enforce'])).code).toBe(0);
      const p = await proxy();
      const dry = await bed.cli(['rollback', '--dry-run', '--format', 'json'], { endpoint: p.endpoint });
      expect(dry.code, dry.stderr).toBe(0);
      expect(json(dry)['result']).toBe('dry_run_ok');
      expect((await p.calls('ModifyInstanceMetadataOptions')).map((c) => [c.dryRun, c.outcome])).toEqual([[true, 'dry-run']]);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'required' });
      expect(bed.changes()).toMatchObject([{ action: 'enforce', rolled_back_at: null }]);
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('--hop-limit N sets N', async () => {
      v2Only();
      const r = await bed.cli(['enforce', '--hop-limit', '3']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/change +HttpTokens optional→required, HopLimit 1→3 \(hop limit --hop-limit 3\)/);
      expect(r.stdout).toMatch(/verify +IMDSv1 GET \(no token\) → 401 \(expected 401\) ok/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 3 });
      expect((await bed.cli(['rollback'])).code).toBe(0);
    });

    it('a daemon that cannot capture leaves no observation behind (the gate cannot pass on heartbeats alone)', async () => {
      const r = await bed.cli(['daemon', '--interface', 'bogus0', '--metrics-sink', 'none', '--state-dir', bed.stateDir, '--events-file', bed.eventsFile], { withDefaults: false });
      expect(r.code).toBe(4);
      expect(existsSync(join(bed.stateDir, 'state.json'))).toBe(false);
    });
  });

  describe('with the real daemon observing', () => {
    let daemon: DaemonProcess | undefined;
    afterEach(async () => {
      await daemon?.stop();
      daemon = undefined;
    });
    const startDaemon = async (): Promise<DaemonProcess> =>
      (daemon = await DaemonProcess.start(bed.tb.nsName('host'), ['--state-dir', bed.stateDir, '--events-file', bed.eventsFile, '--metrics-sink', 'none'], AWS_ENV));
    const stateFile = (): ReturnType<typeof readState> => readState(join(bed.stateDir, 'state.json'));

    it('a curl IMDSv1 call the daemon saw: status names curl, enforce refuses and EC2 is unchanged', async () => {
      await startDaemon();
      const v1 = await curlV1(bed.tb, 'host');
      expect(v1.stdout).toBe('200');
      await waitUntil(() => ((stateFile()?.processes['curl']?.v1 ?? 0) > 0 ? true : undefined), 10_000, 'the daemon to record curl');
      // A window of 1m: the curl call is inside it (and the agent has observed for less: a second reason).
      const status = await bed.cli(['status', '--min-observation', '1m', '--format', 'json']);
      expect(status.code, status.stderr).toBe(3);
      expect(json(status)).toMatchObject({ verdict: 'not ready: curl', observation: { agent_running: true } });
      const r = await bed.cli(['enforce', '--min-observation', '1m']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/IMDSv1 callers seen: curl/);
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' });
    });

    it("only IMDSv2 callers (SDK, curl with a token): enforced and verified; imds-sniff's own IMDS calls (identity, role credentials, the token-less check) are not counted, so status stays ready after rollback", async () => {
      await startDaemon();
      expect((await sdkCredentials(bed.tb, 'host')).code).toBe(0);
      const token = await curlToken(bed.tb, 'host');
      expect((await curlWithToken(bed.tb, 'host', token.stdout)).stdout).toBe('200');
      const before = await waitUntil(() => {
        const s = stateFile();
        return s !== null && Date.now() - Date.parse(s.observing_since) > 2_000 && (s.processes['curl']?.v2_get ?? 0) > 0 ? s : undefined;
      }, 15_000, 'two seconds of observation with the IMDSv2 calls recorded');
      const totals = (s: NonNullable<typeof before>): number[] => Object.values(s.processes).flatMap((p) => [p.v1, p.v2_token, p.v2_get]);
      // No keys in the environment: the CLI takes the instance role's credentials from IMDS, as on EC2.
      const roleEnv = { ...AWS_ENV, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
      const r = await bed.cli(['enforce', '--min-observation', '2s', '--format', 'json'], { env: roleEnv });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ result: 'verified', verification: { v1: { status: 401 }, v2: { status: 200 } } });
      const rb = await bed.cli(['rollback', '--format', 'json'], { env: roleEnv });
      expect(rb.code, rb.stderr).toBe(0);
      expect(json(rb)).toMatchObject({ result: 'verified', verification: { v1: { status: 200 } } });
      // The daemon saw every one of those calls, marked own; none reached the per-process totals.
      const own = await waitUntil(() => {
        const lines = readFileSync(bed.eventsFile, 'utf8').split('\n').filter((l) => l.includes('"imds_request"') && l.includes('imds-sniff-own/1'));
        return lines.some((l) => l.includes('security-credentials')) && lines.filter((l) => l.includes('"kind":"v1"')).length >= 2 ? lines : undefined;
      }, 10_000, 'the daemon to log the CLI\'s own calls');
      expect(own.filter((l) => !(JSON.parse(l) as { own: boolean }).own)).toEqual([]);
      const after = await waitUntil(() => {
        const s = stateFile();
        return s !== null && Date.now() - Date.parse(s.updated) < 1500 ? s : undefined;
      }, 5_000, 'a fresh state write');
      expect(Object.keys(after.processes).sort()).toEqual(Object.keys(before.processes).sort());
      expect(totals(after)).toEqual(totals(before));
      const status = await bed.cli(['status', '--min-observation', '2s', '--format', 'json'], { env: roleEnv });
      expect(json(status)['verdict']).toBe('ready');
    });
  });

  describe('errors before anything changes', () => {
    it.each([
      [['enforce', '--hop-limit', '0'], /--hop-limit: "0" must be an integer 1..64/],
      [['enforce', '--min-observation', 'soon'], /--min-observation: "soon" is not a duration/],
      [['status', '--instance-id', 'i-xyz'], /^imds-sniff: --instance-id \(identity\.instanceId\) must be an instance id such as "i-0123456789abcdef0"/],
      [['enforce', '--set-default'], /--set-default needs --launch-template/],
      [['enforce', '--region', 'Mars'], /^imds-sniff: --region \(identity\.region\) must be a region such as "us-east-1"/],
    ])('%j → exit 2', async (args, message) => {
      const r = await bed.cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it('a refused enforce and a rollback with nothing recorded create nothing (not even the state directory)', async () => {
      const fresh = join(bed.dir, 'never-used');
      const flags = ['--endpoint-url', bed.moto.endpoint, '--state-dir', fresh, '--events-file', join(fresh, 'events.jsonl')];
      const refused = await bed.cli(['enforce', ...flags], { withDefaults: false });
      expect(refused.code).toBe(6);
      expect(refused.stderr).toMatch(/the agent has not observed this instance/);
      const nothing = await bed.cli(['rollback', ...flags], { withDefaults: false });
      expect(nothing.code).toBe(2);
      expect(existsSync(fresh)).toBe(false);
    });

    it('off EC2 (no IMDS) without --instance-id: says which flags to give', async () => {
      const ns = `${bed.tb.prefix}-noimds`;
      execFileSync('ip', ['netns', 'add', ns]);
      try {
        execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        const r = await bed.cli(['status'], { ns });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/imds-sniff: cannot tell which instance this is: no answer from IMDS/);
        expect(r.stderr).toMatch(/hint: .*give --instance-id and --region/);
      } finally {
        execFileSync('ip', ['netns', 'del', ns]);
      }
    });

    it('no AWS credentials anywhere: one line saying how to provide them (exit 5)', async () => {
      await bed.tb.mock.setOptions({ role: null });
      try {
        const env = { ...AWS_ENV, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
        const r = await bed.cli(['status'], { env });
        expect(r.code).toBe(5);
        expect(r.stderr).toMatch(/DescribeInstances on i-\w+ in us-east-1: no usable AWS credentials/);
        expect(r.stderr).toMatch(/hint: attach an instance profile/);
      } finally {
        await bed.tb.mock.setOptions({ role: 'imds-sniff-test-role' });
      }
    });
  });

  describe('beyond this host', () => {
    /** Metrics as the agent on `instanceId` would have sent them: 5-minute intervals for `hours`, with `calls` per process. */
    function putAgentMetrics(instanceId: string, hours: number, calls: (startMs: number) => Record<string, Partial<ProcessCounts>>): void {
      const period = 300_000;
      const end = Math.floor(Date.now() / period) * period;
      const datums = [];
      for (let start = end - hours * H; start < end; start += period) {
        const processes = new Map(Object.entries(calls(start)).map(([name, c]) => [name, { ...zeroCounts(), ...c }]));
        datums.push(...intervalDatums({ id: `t${start}`, startMs: start, endMs: start + period, late: false, processes }, { identity: { instanceId, autoScalingGroupName: null }, includeAutoScalingGroup: false }));
      }
      const payload = JSON.stringify(datums.map((d) => ({ ...d, Timestamp: (d.Timestamp as Date).getTime() })));
      execFileSync('ip', ['netns', 'exec', bed.tb.nsName('host'), process.execPath, CW_PUT, bed.moto.endpoint, 'IMDSSniff'], { env: AWS_ENV, input: payload });
    }

    it('--instance-id of another instance: the gate reads its CloudWatch metrics; refused with an IMDSv1 caller, enforced without, no host check', async () => {
      const dirty = await runInstance(bed.ec2);
      const clean = await runInstance(bed.ec2);
      const twoHoursAgo = Date.now() - 2 * H;
      putAgentMetrics(dirty, 25, (start) => ({ 'aws-sdk-go': { IMDSv2Calls: 2 }, ...(Math.abs(start - twoHoursAgo) < 150_000 ? { 'legacy-app': { IMDSv1Calls: 4 } } : {}) }));
      putAgentMetrics(clean, 25, () => ({ 'aws-sdk-go': { IMDSv2TokenCalls: 1, IMDSv2Calls: 2 } }));
      const remote = ['--region', 'us-east-1', '--cloudwatch-endpoint-url', bed.moto.endpoint, '--format', 'json'];

      const status = await bed.cli(['status', '--instance-id', dirty, ...remote]);
      expect(status.code, status.stderr).toBe(3);
      expect(json(status)).toMatchObject({ this_host: false, verdict: 'not ready: legacy-app', observation: { source: 'cloudwatch' } });
      const refused = await bed.cli(['enforce', '--instance-id', dirty, ...remote]);
      expect(refused.code).toBe(6);
      expect(refused.stderr).toMatch(/IMDSv1 callers seen: legacy-app/);
      expect(await bed.options(dirty)).toMatchObject({ HttpTokens: 'optional' });

      const r = await bed.cli(['enforce', '--instance-id', clean, ...remote]);
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ this_host: false, result: 'applied', verification: null, gate: { ok: true } });
      expect(await bed.options(clean)).toMatchObject({ HttpTokens: 'required' });
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' }); // this host untouched
      const rb = await bed.cli(['rollback', '--instance-id', clean, '--region', 'us-east-1']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(rb.stdout).toMatch(/verify +skipped: not this host/);
      expect(await bed.options(clean)).toMatchObject({ HttpTokens: 'optional' });
    });

    it('an instance with no metrics is refused: nothing observed', async () => {
      const silent = await runInstance(bed.ec2);
      const r = await bed.cli(['enforce', '--instance-id', silent, '--region', 'us-east-1', '--cloudwatch-endpoint-url', bed.moto.endpoint]);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/the agent has not observed this instance \(nothing in CloudWatch IMDSSniff/);
    });

    it('--launch-template: a new version copied from the default with HttpTokens=required, made the default; rollback restores the default', async () => {
      const templateName = `web-${randomBytes(3).toString('hex')}`;
      const created = await ec2Call<{ LaunchTemplate: { LaunchTemplateId: string } }>(bed.ec2, 'CreateLaunchTemplate', {
        LaunchTemplateName: templateName,
        LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 't3.micro', UserData: 'ZWNobyBoaQ==', MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 1 } },
      });
      const lt = created.LaunchTemplate.LaunchTemplateId;
      v2Only();
      const dry = await bed.cli(['enforce', '--launch-template', lt, '--set-default', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      const versions = async (): Promise<{ VersionNumber: number; DefaultVersion: boolean; LaunchTemplateData: Record<string, any> }[]> =>
        (await ec2Call<{ LaunchTemplateVersions: any[] }>(bed.ec2, 'DescribeLaunchTemplateVersions', { LaunchTemplateId: lt })).LaunchTemplateVersions;
      expect(await versions()).toHaveLength(1);

      const r = await bed.cli(['enforce', '--launch-template', lt, '--set-default', '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ result: 'verified', created_version: 2, default_version_now: 2 });
      const v2 = (await versions()).find((v) => v.VersionNumber === 2);
      expect(v2?.DefaultVersion).toBe(true);
      expect(v2?.LaunchTemplateData).toMatchObject({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', UserData: 'ZWNobyBoaQ==', MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' } });
      expect(await bed.options()).toMatchObject({ HttpTokens: 'optional' }); // the instance is not touched
      expect(bed.auditLines()).toMatchObject([{ action: 'enforce', target: { kind: 'launch-template', launch_template_id: lt }, result: 'verified' }]);
      const again = await bed.cli(['enforce', '--launch-template', lt]);
      expect(again.stdout).toMatch(/already requires IMDSv2: nothing to change/);

      // By name: the record keeps the id, the name is resolved.
      const rb = await bed.cli(['rollback', '--launch-template', templateName, '--region', 'us-east-1', '--format', 'json']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(json(rb)).toMatchObject({ result: 'verified', default_version_after: 1 });
      expect((await versions()).find((v) => v.DefaultVersion)?.VersionNumber).toBe(1);
    });

    /** A launch template with one version (IMDSv1 allowed); returns its id and a reader of its versions. */
    async function template(): Promise<{ lt: string; versions: () => Promise<{ VersionNumber: number; DefaultVersion: boolean }[]> }> {
      const created = await ec2Call<{ LaunchTemplate: { LaunchTemplateId: string } }>(bed.ec2, 'CreateLaunchTemplate', {
        LaunchTemplateName: `app-${randomBytes(3).toString('hex')}`,
        LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 't3.micro' },
      });
      const lt = created.LaunchTemplate.LaunchTemplateId;
      return { lt, versions: async () => (await ec2Call<{ LaunchTemplateVersions: any[] }>(bed.ec2, 'DescribeLaunchTemplateVersions', { LaunchTemplateId: lt })).LaunchTemplateVersions };
    }

    it('--launch-template: the gate refusing creates no version', async () => {
      const { lt, versions } = await template();
      withV1Caller();
      const r = await bed.cli(['enforce', '--launch-template', lt, '--set-default']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/not changing launch template lt-\w+: IMDSv1 callers seen: legacy-cron/);
      expect(await versions()).toHaveLength(1);
      expect(bed.changes()).toEqual([]);
    });

    it('--launch-template without --set-default: a new version, the default untouched; rollback has nothing to restore', async () => {
      const { lt, versions } = await template();
      v2Only();
      const r = await bed.cli(['enforce', '--launch-template', lt]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/default +still version 1: add --set-default, or point your Auto Scaling group at version 2/);
      expect((await versions()).map((v) => [v.VersionNumber, v.DefaultVersion])).toEqual(expect.arrayContaining([[1, true], [2, false]]));
      const rb = await bed.cli(['rollback', '--launch-template', lt, '--region', 'us-east-1', '--format', 'json']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(json(rb)['result']).toBe('already_restored');
    });

    it('--launch-template rollback refuses when the default was changed since (exit 6); --force sets the recorded one back', async () => {
      const { lt, versions } = await template();
      v2Only();
      expect((await bed.cli(['enforce', '--launch-template', lt, '--set-default'])).code).toBe(0);
      // Someone else makes a version 3 the default.
      await ec2Call(bed.ec2, 'CreateLaunchTemplateVersion', { LaunchTemplateId: lt, LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 't3.small' } });
      await ec2Call(bed.ec2, 'ModifyLaunchTemplate', { LaunchTemplateId: lt, DefaultVersion: '3' });
      const r = await bed.cli(['rollback', '--launch-template', lt, '--region', 'us-east-1']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/default version is 3, not 2 as enforce left it/);
      expect((await versions()).find((v) => v.DefaultVersion)?.VersionNumber).toBe(3);
      const forced = await bed.cli(['rollback', '--launch-template', lt, '--region', 'us-east-1', '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toMatch(/warning: --force/);
      expect((await versions()).find((v) => v.DefaultVersion)?.VersionNumber).toBe(1);
    });
  });
});
