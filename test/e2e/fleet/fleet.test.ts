// End to end: `imds-sniff fleet inventory|report` as an operator runs them, against moto (with the FleetEmulator for what moto
// lacks) holding a generated fleet of 1020 instances over 3 regions and 2 accounts, one of them through an assumed role.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CloudWatchClient, GetDashboardCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTagsCommand, DescribeInstancesCommand, DescribeRegionsCommand, EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardBody } from '../../../src/fleet/dashboard/body.js';
import type { HostResult } from '../../../src/fleet/enforce/outcome.js';
import type { LockStep } from '../../../src/fleet/lock/plan.js';
import type { Inventory } from '../../../src/fleet/model.js';
import type { FleetReport, Verdict } from '../../../src/fleet/report/model.js';
import { FleetEmulator } from '../../helpers/fleet-emulator.js';
import { accountCredentials, FLEET_ACCOUNTS, FLEET_REGIONS, FLEET_ROLE, generateFleet, type FleetTruth } from '../../helpers/fleet-generator.js';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';
import { HostNamespace } from '../../helpers/host-namespace.js';
import { expectOneLineError, MAIN, runArgv, runCliAsync, type CliResult } from '../../helpers/run-cli.js';
import { useMotoSdkEnv } from '../metrics/harness.js';

const skip = motoSkipReason();
const PER_SCOPE = 170;
const DAYS = 7;

/** What the report must say about an instance the generator made. */
function expectedVerdict(t: FleetTruth['instances'] extends Map<string, infer V> ? V : never): Verdict {
  if (t.httpTokens === 'required') return 'enforced';
  const exception = t.tags['imds-sniff:exception'];
  if (exception !== undefined && exception.includes('until=2099')) return 'exception';
  if (t.agent) return t.blockers.size > 0 ? 'blocked' : t.fullAgent ? 'ready' : 'no-data';
  return t.noToken > 0 ? 'v1-no-agent' : 'no-data';
}

describe.skipIf(skip !== null)(skip === null ? 'fleet inventory and report (moto, 1020 instances)' : `fleet (skipped: ${skip})`, () => {
  let moto: MotoServer;
  let emulator: FleetEmulator;
  let truth: FleetTruth;
  let restoreEnv: () => void;
  let scope: string[];
  let hosts: HostNamespace;

  beforeAll(async () => {
    restoreEnv = useMotoSdkEnv();
    moto = await MotoServer.start();
    hosts = await HostNamespace.create('isfleet', 213);
    emulator = await FleetEmulator.start(moto.port, hosts.rootIp);
    const started = Date.now();
    truth = await generateFleet({ endpoint: emulator.endpoint, perScope: PER_SCOPE, days: DAYS, nowMs: Date.now(), namespace: 'IMDSSniff' });
    console.log(`fleet: generated ${truth.instances.size} instances in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    scope = ['--accounts', FLEET_ACCOUNTS.join(','), '--role-name', FLEET_ROLE, '--regions', FLEET_REGIONS.join(','), '--endpoint-url', emulator.endpoint];
  }, 600_000);

  afterAll(async () => {
    await emulator?.close();
    await hosts?.destroy();
    await moto?.stop();
    restoreEnv?.();
  });

  let inventory: Inventory;

  it('inventory: every instance, group, template version, configuration and account default, each as EC2 holds it', async () => {
    const r = await runCliAsync(['fleet', 'inventory', ...scope, '-f', 'json']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    inventory = JSON.parse(r.stdout) as Inventory;
    expect(inventory.errors).toEqual([]);
    expect(inventory.instances).toHaveLength(truth.instances.size);
    expect(truth.instances.size).toBeGreaterThanOrEqual(1000);
    const wrong = inventory.instances.filter((i) => {
      const t = truth.instances.get(i.id);
      return t === undefined || t.account !== i.account || t.region !== i.region || i.posture.allowsV1 !== (t.httpTokens === 'optional') || i.autoScalingGroup !== t.group;
    });
    expect(wrong.map((i) => i.id)).toEqual([]);
    expect(Object.fromEntries(inventory.autoScalingGroups.map((g) => [`${g.account}/${g.region}/${g.name}`, g.posture?.allowsV1]))).toEqual(Object.fromEntries(truth.groupsAllowV1));
    // The second account was read through the assumed role, and its defaults are its own.
    const defaults = Object.fromEntries(inventory.accountDefaults.map((d) => [`${d.account}/${d.region}`, d.httpTokens]));
    expect(defaults).toEqual(Object.fromEntries(FLEET_ACCOUNTS.flatMap((a) => FLEET_REGIONS.map((r) => [`${a}/${r}`, a === FLEET_ACCOUNTS[0] && r === 'eu-west-1' ? 'required' : null]))));
    const web = inventory.launchTemplateVersions.filter((v) => v.name === 'web' && v.account === FLEET_ACCOUNTS[1] && v.region === 'us-east-1');
    expect(web.map((v) => [v.version, v.isDefault, v.usedBy, v.posture.allowsV1])).toEqual([[1, true, ['web-asg'], true], [2, false, [], false]]);
    const batch = inventory.launchTemplateVersions.find((v) => v.name === 'batch' && v.region === 'us-west-2');
    expect(batch?.posture).toEqual({ allowsV1: false, source: 'ami' });
    const calls = Object.values(inventory.calls).reduce((a, b) => a + b, 0);
    console.log(`figure: fleet inventory of ${inventory.instances.length} instances, ${inventory.scopes.length} scopes: ${(r.ms / 1000).toFixed(1)} s, ${calls} API calls (${JSON.stringify(inventory.calls)})`);
  }, 300_000);

  it('under throttling (a quarter of all calls refused) the inventory is the same and no throttling error reaches the user', async () => {
    emulator.throttle(0.25);
    const before = emulator.seen.length;
    try {
      // One account's three regions (the cost is the SDK's rate limiter slowing down, not the size).
      const account = FLEET_ACCOUNTS[0];
      const r = await runCliAsync(['fleet', 'inventory', '--accounts', account, '--regions', FLEET_REGIONS.join(','), '--endpoint-url', emulator.endpoint, '-f', 'json']);
      expect(r.stderr).not.toMatch(/Throttl|RequestLimitExceeded/);
      expect(r.code).toBe(0);
      const again = JSON.parse(r.stdout) as Inventory;
      expect(again.errors).toEqual([]);
      const seen = emulator.seen.slice(before);
      const throttled = seen.filter((c) => c.throttled).length;
      expect(throttled).toBeGreaterThan(seen.length / 8);
      const mine = <T extends { account: string }>(items: T[]): T[] => items.filter((i) => i.account === account);
      const strip = (inv: Inventory): unknown => ({
        ...inv, collectedAt: null, calls: null, scopes: mine(inv.scopes), instances: mine(inv.instances), launchTemplateVersions: mine(inv.launchTemplateVersions),
        launchConfigurations: mine(inv.launchConfigurations), autoScalingGroups: mine(inv.autoScalingGroups), accountDefaults: mine(inv.accountDefaults),
      });
      expect(again.instances.length).toBeGreaterThanOrEqual(500);
      expect(strip(again)).toEqual(strip(inventory));
      console.log(`figure: fleet inventory throttled: ${throttled} of ${seen.length} calls refused, ${(r.ms / 1000).toFixed(1)} s`);
    } finally {
      emulator.throttle(0);
    }
  }, 300_000);

  it('report: a verdict per instance from the agents\' metrics and EC2\'s MetadataNoToken, waves, expired exceptions, fixes', async () => {
    const r = await runCliAsync(['fleet', 'report', ...scope, '--days', String(DAYS), '-f', 'json']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as FleetReport;
    expect(report.instances).toHaveLength(truth.instances.size);
    const wrong = report.instances.filter((v) => {
      const t = truth.instances.get(v.instance.id);
      if (t === undefined || v.verdict !== expectedVerdict(t)) return true;
      return v.verdict === 'blocked' && JSON.stringify(v.blockers.map((b) => [b.process, b.calls]).sort()) !== JSON.stringify([...t.blockers].sort());
    });
    expect(wrong.map((v) => `${v.instance.id} ${v.verdict}: ${v.detail}`)).toEqual([]);
    for (const v of Object.keys(report.totals.byVerdict) as Verdict[]) expect(report.totals.byVerdict[v], v).toBeGreaterThan(0);
    // Waves: dev/test group members are disposable, prod groups refresh, hand-built instances are 2 unless tagged.
    const wave = (id: string): number | undefined => report.instances.find((v) => v.instance.id === id)?.wave;
    for (const [id, t] of truth.instances) {
      const want = t.tags['imds-sniff:wave'] !== undefined ? Number(t.tags['imds-sniff:wave']) : t.group === null ? 2 : t.tags['env'] === 'prod' ? 1 : 0;
      expect(wave(id), id).toBe(want);
    }
    const expired = [...truth.instances].filter(([, t]) => t.tags['imds-sniff:exception']?.includes('until=2020') && t.httpTokens === 'optional').map(([id]) => id).sort();
    expect(report.expiredExceptions).toEqual(expired);
    expect(report.processes.map((p) => p.program).sort()).toEqual(['aws', 'curl', 'java', 'node', 'python3', 'telegraf']);
    const open = report.launchPaths.filter((p) => p.kind === 'auto-scaling-group' && p.posture?.allowsV1);
    expect(open.length).toBe([...truth.groupsAllowV1.values()].filter(Boolean).length);
    expect(open.every((p) => p.fix !== null)).toBe(true);
    console.log(`figure: fleet report of ${report.instances.length} instances: ${(r.ms / 1000).toFixed(1)} s; verdicts ${JSON.stringify(report.totals.byVerdict)}`);
  }, 300_000);

  it('the report page in headless Chromium (no network): its totals, charts and tables, sorted by the address, a screenshot kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-fleet-page-'));
    const page = join(dir, 'report.html');
    const r = await runCliAsync(['fleet', 'report', ...scope, '--days', String(DAYS), '-f', 'html', '-o', page]);
    expect(r.code).toBe(0);
    expect(statSync(page).mode & 0o777).toBe(0o640);
    // An empty network namespace: the browser cannot reach anything, and the page needs nothing.
    const chromium = ['unshare', '--net', 'chromium', '--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'profile')}`];
    const dom = await runArgv([...chromium, '--dump-dom', `file://${page}#sort=processes:3:desc`], {}, 60_000);
    expect(dom.code, dom.stderr.slice(-500)).toBe(0);
    const cards = Object.fromEntries([...dom.stdout.matchAll(/data-verdict="([a-z0-9-]+)"><b>(\d+)<\/b>/g)].map((m) => [m[1], Number(m[2])]));
    const report = JSON.parse((await runCliAsync(['fleet', 'report', ...scope, '--days', String(DAYS), '-f', 'json'])).stdout) as FleetReport;
    expect(cards).toEqual(report.totals.byVerdict);
    expect(dom.stdout).toContain('<svg id="chart-process"');
    expect(dom.stdout).toContain('<svg id="chart-wave"');
    // The sorting script ran under the page's CSP: the processes table is sorted by its calls column, descending.
    const processes = /<table id="processes"[\s\S]*?<\/table>/.exec(dom.stdout)?.[0] ?? '';
    expect(processes).toContain('aria-sort="descending"');
    const calls = [...processes.matchAll(/<tr><td>[^<]*<\/td><td>[^<]*<\/td><td class="n">\d+<\/td><td class="n">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(calls.length).toBe(report.processes.length);
    expect(calls).toEqual([...calls].sort((a, b) => b - a));
    const rows = (/<table id="instances"[\s\S]*?<\/table>/.exec(dom.stdout)?.[0] ?? '').match(/<tr>/g)?.length ?? 0;
    expect(rows).toBe(truth.instances.size + 1);
    const shot = join(process.cwd(), 'build', 'test-artifacts', 'fleet-report.png');
    mkdirSync(dirname(shot), { recursive: true });
    const taken = await runArgv([...chromium, '--hide-scrollbars', '--window-size=1280,1600', `--screenshot=${shot}`, `file://${page}`], {}, 60_000);
    expect(taken.code, taken.stderr.slice(-500)).toBe(0);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    console.log(`fleet report page: ${(statSync(page).size / 1024).toFixed(0)} KiB, screenshot ${shot}`);
  }, 180_000);

  it('dashboard: one per account, the top-processes query per region and the instances that still call per wave', async () => {
    const audit = join(mkdtempSync(join(tmpdir(), 'imds-sniff-fleet-')), 'audit.jsonl');
    const r = await runCliAsync(['fleet', 'dashboard', ...scope, '--days', String(DAYS), '--name', 'imdsv1-e2e', '--audit-file', audit]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(FLEET_ACCOUNTS.map((a) => expect.stringMatching(new RegExp(`^wrote dashboard imdsv1-e2e in ${a}: \\d+ widgets$`))));
    for (const account of FLEET_ACCOUNTS) {
      const cw = new CloudWatchClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: await accountCredentials(emulator.endpoint, account) });
      const body = JSON.parse((await cw.send(new GetDashboardCommand({ DashboardName: 'imdsv1-e2e' }))).DashboardBody ?? '{}') as DashboardBody;
      const titles = body.widgets.map((w) => w.properties.title);
      expect(titles.filter((t) => t.startsWith('IMDSv1 calls by process'))).toEqual(FLEET_REGIONS.map((region) => `IMDSv1 calls by process, top 10 (${region})`));
      const open = [...truth.instances].filter(([, t]) => t.account === account && t.httpTokens === 'optional').map(([id]) => id);
      const named = body.widgets.flatMap((w) => w.properties.metrics.flatMap((m) => [...m[0].expression.matchAll(/InstanceId = '(i-[0-9a-f]+)'/g)].map((x) => x[1])));
      expect(new Set(named)).toEqual(new Set(open));
      expect(body.widgets.every((w) => FLEET_REGIONS.includes(w.properties.region as (typeof FLEET_REGIONS)[number]))).toBe(true);
    }
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; account: string; result: string });
    expect(lines.map((l) => [l.action, l.account, l.result])).toEqual(FLEET_ACCOUNTS.map((a) => ['dashboard', a, 'written']));
  }, 300_000);

  it('lock: refused while an instance allows IMDSv1 or a policy owns the defaults; set, audited and undone once a scope is clear', async () => {
    const audit = join(mkdtempSync(join(tmpdir(), 'imds-sniff-fleet-')), 'audit.jsonl');
    const [accountA, accountB] = FLEET_ACCOUNTS;
    const clear = { account: accountB, region: 'us-west-2' };
    const lock = (...more: string[]): Promise<CliResult> =>
      runCliAsync(['fleet', 'lock', '--accounts', `${accountA},${accountB}`, '--role-name', FLEET_ROLE, '--endpoint-url', emulator.endpoint, '--audit-file', audit, '-f', 'json', ...more]);

    emulator.setDefaults(accountA, 'us-east-1', { ManagedBy: 'declarative-policy' });
    const refused = await lock('--regions', 'us-east-1,us-west-2');
    expect(refused.code).toBe(6);
    const plan = JSON.parse(refused.stdout) as { refused: boolean; steps: LockStep[] };
    const reasons = Object.fromEntries(plan.steps.map((s) => [`${s.account}/${s.region}`, s.reasons.join(' | ')]));
    expect(reasons[`${accountA}/us-east-1`]).toMatch(/declarative policy/);
    expect(reasons[`${clear.account}/${clear.region}`]).toMatch(/^\d+ instances still allow IMDSv1: i-/);
    expect(emulator.getDefaults(clear.account, clear.region).HttpTokens).toBeUndefined();
    emulator.setDefaults(accountA, 'us-east-1', { ManagedBy: 'account' });

    // The waves are done in one scope: every instance there requires IMDSv2, but one excepted.
    const ec2 = new EC2Client({ region: clear.region, endpoint: emulator.endpoint, credentials: await accountCredentials(emulator.endpoint, clear.account) });
    const open = [...truth.instances].filter(([, t]) => t.account === clear.account && t.region === clear.region && t.httpTokens === 'optional').map(([id]) => id);
    const [excepted, ...rest] = open;
    for (const id of rest) await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required' }));
    await ec2.send(new CreateTagsCommand({ Resources: [excepted ?? ''], Tags: [{ Key: 'imds-sniff:exception', Value: 'vendor appliance;until=2099-01-01' }] }));
    const only = ['--accounts', clear.account, '--regions', clear.region];
    const enforcedRefused = await runCliAsync(['fleet', 'lock', ...only, '--role-name', FLEET_ROLE, '--endpoint-url', emulator.endpoint, '--audit-file', audit, '--enforced']);
    expect(enforcedRefused.code).toBe(6);
    expect(enforcedRefused.stdout).toContain(`the excepted instances ${excepted} could not be launched again`);
    expect(enforcedRefused.stdout).toMatch(/launches of .*web-asg.* would fail/);

    const set = await runCliAsync(['fleet', 'lock', ...only, '--role-name', FLEET_ROLE, '--endpoint-url', emulator.endpoint, '--audit-file', audit]);
    expect(set.stdout).toBe(`${clear.account} ${clear.region}: applied\n`);
    expect(set.code).toBe(0);
    expect(emulator.getDefaults(clear.account, clear.region).HttpTokens).toBe('required');
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ event: 'fleet_change', action: 'lock', result: 'applied', account: clear.account, region: clear.region, before: { httpTokens: null, httpTokensEnforced: false } })]);

    const undo = await runCliAsync(['fleet', 'lock', ...only, '--role-name', FLEET_ROLE, '--endpoint-url', emulator.endpoint, '--audit-file', audit, '--undo']);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toBe(`${clear.account} ${clear.region}: HttpTokens no-preference: restored\n`);
    expect(emulator.getDefaults(clear.account, clear.region).HttpTokens).toBeUndefined();
  }, 300_000);

  it('enforce a wave through Run Command: the gated enforce on each host, enforced / refused with the process / failed, audited, rolled back', async () => {
    const account = FLEET_ACCOUNTS[1];
    const region = 'us-east-1';
    const audit = join(mkdtempSync(join(tmpdir(), 'imds-sniff-fleet-')), 'audit.jsonl');
    const stateRoot = mkdtempSync(join(tmpdir(), 'imds-sniff-fleet-hosts-'));
    const one = ['--accounts', account, '--role-name', FLEET_ROLE, '--regions', region, '--endpoint-url', emulator.endpoint, '--days', String(DAYS), '--audit-file', audit, '-f', 'json'];
    const dry = await runCliAsync(['fleet', 'enforce', '--wave', '0', ...one, '--dry-run']);
    expect(dry.code).toBe(0);
    const planned = (JSON.parse(dry.stdout) as { targets: { instanceId: string }[] }).targets.map((t) => t.instanceId);
    for (const id of planned) expect(expectedVerdict(truth.instances.get(id) as never), id).toBe('ready');
    expect(planned.length).toBeGreaterThanOrEqual(4);
    const [refusing, broken, ...enforced] = planned as [string, string, ...string[]];

    // The agents keep reporting: a heartbeat every 5 minutes for the last 70, which the gate on each host reads.
    const credentials = await accountCredentials(emulator.endpoint, account);
    const cw = new CloudWatchClient({ region, endpoint: emulator.endpoint, credentials });
    const now = Date.now();
    await cw.send(new PutMetricDataCommand({
      Namespace: 'IMDSSniff',
      MetricData: planned.flatMap((id) => Array.from({ length: 15 }, (_, k) => ({ MetricName: 'IMDSv1Calls', Dimensions: [{ Name: 'InstanceId', Value: id }], Value: 0, Unit: 'Count' as const, Timestamp: new Date(now - k * 300_000) }))),
    }));

    // Each host: the command SSM was given, with what the host itself would know (its id, from IMDS); one has no imds-sniff,
    // and on one a cron job called IMDSv1 after the report was made.
    const env = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken ?? '' };
    const hostEndpoint = emulator.endpointAt(hosts.rootIp);
    emulator.onRunCommand(async (call) => {
      const command = call.parameters['commands']?.[0] ?? '';
      const m = /^imds-sniff (enforce|rollback) --format json( [A-Za-z0-9 ._=:-]*)?$/.exec(command);
      if (!m || call.account !== account || call.region !== region) return { status: 'Failed', responseCode: 2, output: `unexpected command ${command}` };
      if (call.instanceId === broken) return { status: 'Failed', responseCode: 127, output: 'sh: 1: imds-sniff: not found\n' };
      if (call.instanceId === refusing && m[1] === 'enforce') {
        await cw.send(new PutMetricDataCommand({ Namespace: 'IMDSSniff', MetricData: [{ MetricName: 'IMDSv1Calls', Dimensions: [{ Name: 'InstanceId', Value: refusing }, { Name: 'Process', Value: 'backup.sh' }], Value: 1, Unit: 'Count', Timestamp: new Date() }] }));
      }
      const argv = ['ip', 'netns', 'exec', hosts.name, process.execPath, MAIN, m[1] as string, '--format', 'json', ...(m[2] ?? '').trim().split(' ').filter((a) => a !== ''),
        '--instance-id', call.instanceId, '--region', call.region, '--endpoint-url', hostEndpoint, '--cloudwatch-endpoint-url', hostEndpoint,
        '--state-dir', join(stateRoot, call.instanceId), '--events-file', 'none'];
      const r = await runArgv(argv, env);
      return { status: r.code === 0 ? 'Success' : 'Failed', responseCode: r.code ?? -1, output: `${r.stdout}${r.stderr ? `\n----------ERROR-------\n${r.stderr}` : ''}` };
    });
    try {
      const run = await runCliAsync(['fleet', 'enforce', '--wave', '0', ...one, '--max-errors', '100%', '--max-concurrency', '2', '--host-args', '--min-observation 1h --timeout 30s', '--timeout', '4m'], { timeoutMs: 280_000 });
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.code).toBe(5);
      const out = JSON.parse(run.stdout) as { results: HostResult[] };
      const by = Object.fromEntries(out.results.map((r) => [r.instanceId, r]));
      expect(by[refusing]).toMatchObject({ outcome: 'refused', processes: ['backup.sh'] });
      expect(by[broken]).toMatchObject({ outcome: 'failed', detail: 'sh: 1: imds-sniff: not found' });
      for (const id of enforced) expect(by[id], id).toMatchObject({ outcome: 'enforced' });
      const ec2 = new EC2Client({ region, endpoint: emulator.endpoint, credentials });
      const tokens = async (ids: string[]): Promise<string[]> => {
        const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
        const byId = new Map((d.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => [i.InstanceId, i.MetadataOptions?.HttpTokens ?? '']));
        return ids.map((id) => byId.get(id) ?? '?');
      };
      expect(await tokens(enforced)).toEqual(enforced.map(() => 'required'));
      expect(await tokens([refusing, broken])).toEqual(['optional', 'optional']);
      const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; result: string; instance_id: string; wave: number });
      expect(lines.map((l) => [l.action, l.instance_id, l.result]).sort()).toEqual(planned.map((id) => ['enforce', id, id === refusing ? 'refused' : id === broken ? 'failed' : 'enforced']).sort());

      const back = await runCliAsync(['fleet', 'enforce', '--wave', '0', ...one, '--rollback', '--timeout', '4m'], { timeoutMs: 280_000 });
      expect(back.stderr).not.toMatch(/\n\s+at /);
      expect(back.code).toBe(0);
      expect((JSON.parse(back.stdout) as { results: HostResult[] }).results.map((r) => [r.instanceId, r.outcome]).sort()).toEqual(enforced.map((id) => [id, 'rolled-back']).sort());
      expect(await tokens(enforced)).toEqual(enforced.map(() => 'optional'));
    } finally {
      emulator.onRunCommand(null);
      await emulator.commandsSettled();
    }
  }, 300_000);

  it('launch paths: a dry-run plan, then new template versions and a configuration copy with IMDSv2 required, the groups moved, audited', async () => {
    const account = FLEET_ACCOUNTS[0];
    const region = 'us-east-1';
    const audit = join(mkdtempSync(join(tmpdir(), 'imds-sniff-fleet-')), 'audit.jsonl');
    const one = ['--accounts', account, '--role-name', FLEET_ROLE, '--regions', region, '--endpoint-url', emulator.endpoint, '--audit-file', audit];
    const dry = await runCliAsync(['fleet', 'launch-paths', ...one, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().replace(/^\S+ \S+: /, '').replace(/lt-[0-9a-f]+/g, 'lt-…')).sort()).toEqual([
      'Auto Scaling group api-asg launches from the new version of lt-… made from v1',
      'Auto Scaling group legacy-asg launches from launch configuration legacy-lc-imdsv2',
      'Auto Scaling group web-asg launches from the new version of lt-… made from v1',
      'copy launch configuration legacy-lc to legacy-lc-imdsv2 with HttpTokens=required (for legacy-asg)',
      'new version of launch template api from v1 with HttpTokens=required (for api-asg)',
      'new version of launch template web from v1 with HttpTokens=required (for web-asg)',
    ]);
    expect(existsSync(audit)).toBe(false);

    const applied = await runCliAsync(['fleet', 'launch-paths', ...one, '--apply', '--instance-refresh', '-f', 'json']);
    expect(applied.stderr).not.toMatch(/\n\s+at /);
    expect(applied.code).toBe(0);
    const steps = (JSON.parse(applied.stdout) as { steps: { kind: string; result: string }[] }).steps;
    expect(steps.map((x) => x.result)).toEqual(steps.map(() => 'applied'));
    const after = JSON.parse((await runCliAsync(['fleet', 'inventory', ...one.slice(0, -2), '-f', 'json'])).stdout) as Inventory;
    expect(Object.fromEntries(after.autoScalingGroups.map((g) => [g.name, g.posture?.allowsV1]))).toEqual({ 'api-asg': false, 'batch-asg': false, 'legacy-asg': false, 'web-asg': false });
    expect(after.launchConfigurations.find((l) => l.name === 'legacy-lc-imdsv2')?.httpTokens).toBe('required');
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; result: string });
    expect(lines.map((l) => l.result)).toEqual(steps.map(() => 'applied'));
    expect(lines.map((l) => l.action).sort()).toEqual(steps.map((x) => `launch-${x.kind}`).sort());
    expect(emulator.instanceRefreshes.sort()).toEqual(['api-asg', 'legacy-asg', 'web-asg'].map((g) => `${account}/${region}/${g}`));
  }, 300_000);

  it('scope: every active account of the organization (ListAccounts, a role assumed in each), every enabled region, progress on stderr', async () => {
    const org = new OrganizationsClient({ region: 'us-east-1', endpoint: emulator.endpoint });
    await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const created = await org.send(new CreateAccountCommand({ AccountName: 'sandbox', Email: 'sandbox@example.com' }));
    const member = created.CreateAccountStatus?.AccountId ?? '';
    expect(member).toMatch(/^\d{12}$/);
    const byOrg = await runCliAsync(['fleet', 'inventory', '--accounts', 'organization', '--role-name', FLEET_ROLE, '--regions', 'eu-west-1', '--endpoint-url', emulator.endpoint, '-f', 'json']);
    expect(byOrg.code).toBe(0);
    const inv = JSON.parse(byOrg.stdout) as Inventory;
    expect(inv.scopes).toEqual([FLEET_ACCOUNTS[0], member].sort().map((account) => ({ account, region: 'eu-west-1' })));
    expect(inv.errors).toEqual([]);
    expect(new Set(inv.instances.map((i) => i.account))).toEqual(new Set([FLEET_ACCOUNTS[0]]));
    expect(inv.calls['AssumeRole']).toBe(1);
    // Another account without --role-name would read the caller's own under its name: refused.
    const noRole = await runCliAsync(['fleet', 'inventory', '--accounts', FLEET_ACCOUNTS[1], '--regions', 'eu-west-1', '--endpoint-url', emulator.endpoint]);
    expect(noRole.code).toBe(2);
    expectOneLineError(noRole.stderr, new RegExp(`--accounts: ${FLEET_ACCOUNTS[1]} is not the caller's account \\(${FLEET_ACCOUNTS[0]}\\) and no --role-name was given`));
    // No --regions: every region the caller has enabled, one progress line each (stderr is no terminal here).
    const all = await runCliAsync(['fleet', 'inventory', '--accounts', FLEET_ACCOUNTS[0], '--endpoint-url', emulator.endpoint, '-f', 'json']);
    expect(all.code).toBe(0);
    const regions = (await new EC2Client({ region: 'us-east-1', endpoint: emulator.endpoint }).send(new DescribeRegionsCommand({}))).Regions?.map((r) => r.RegionName).sort();
    const everywhere = JSON.parse(all.stdout) as Inventory;
    expect(everywhere.scopes.map((x) => x.region)).toEqual(regions);
    expect(regions).toEqual(expect.arrayContaining([...FLEET_REGIONS]));
    const progress = all.stderr.split('\n').filter((l) => /^fleet: \d+\/\d+ \d{12} [a-z0-9-]+: \d+ instances$/.test(l));
    expect(progress).toHaveLength(everywhere.scopes.length);
    expect(progress.at(-1)).toMatch(new RegExp(`^fleet: ${everywhere.scopes.length}/${everywhere.scopes.length} `));
  }, 300_000);
});
