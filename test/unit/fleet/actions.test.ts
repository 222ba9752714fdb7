import { describe, expect, it } from 'vitest';
import { dashboardBody, IDS_PER_QUERY } from '../../../src/fleet/dashboard/body.js';
import { hostOutcome } from '../../../src/fleet/enforce/outcome.js';
import { waveTargets } from '../../../src/fleet/enforce/targets.js';
import { hostArgsProblem } from '../../../src/fleet/aws/run-command.js';
import { assembleScope } from '../../../src/fleet/inventory/assemble.js';
import { describeStep, launchPlan } from '../../../src/fleet/launch/plan.js';
import { lockPlan } from '../../../src/fleet/lock/plan.js';
import type { Inventory } from '../../../src/fleet/model.js';
import { buildReport } from '../../../src/fleet/report/build.js';
import { NOW, SCOPE, daily, metrics, scopeAnswers } from './fixtures.js';

function inventory(answers = scopeAnswers()): Inventory {
  const items = assembleScope(answers);
  return {
    collectedAt: new Date(NOW).toISOString(), scopes: [SCOPE], instances: items.instances, launchTemplateVersions: items.launchTemplateVersions,
    launchConfigurations: items.launchConfigurations, autoScalingGroups: items.autoScalingGroups, accountDefaults: items.accountDefault ? [items.accountDefault] : [], errors: [], calls: {},
  };
}

/** The fixture with every instance enforced but the web one, which carries a valid exception. */
function lockable(): ReturnType<typeof scopeAnswers> {
  const answers = scopeAnswers();
  answers.instances = answers.instances.filter((i) => i.InstanceId !== 'i-0000000000000pet1');
  answers.instances.find((i) => i.InstanceId === 'i-0000000000000web1')?.Tags?.push({ Key: 'imds-sniff:exception', Value: 'vendor;until=2027-06-30' });
  return answers;
}

describe('lockPlan', () => {
  it('refuses while an instance allows IMDSv1 without an exception, naming it', () => {
    const [step] = lockPlan(inventory(), { enforce: false, nowMs: NOW });
    expect(step).toMatchObject({ action: 'refused', before: { httpTokens: null, httpTokensEnforced: false } });
    expect(step?.reasons).toEqual(['2 instances still allow IMDSv1: i-0000000000000pet1, i-0000000000000web1 (imds-sniff fleet enforce, or an exception tag)']);
  });
  it('sets the default once only excepted instances allow IMDSv1; enforcement still refuses (groups and the exception would break)', () => {
    expect(lockPlan(inventory(lockable()), { enforce: false, nowMs: NOW })[0]).toMatchObject({ action: 'set', reasons: [], after: { httpTokens: 'required', httpTokensEnforced: false } });
    expect(lockPlan(inventory(lockable()), { enforce: true, nowMs: NOW })[0]?.reasons).toEqual([
      'with enforcement, launches of web-asg would fail: their launch templates or configurations set HttpTokens=optional',
      'with enforcement, the excepted instances i-0000000000000web1 could not be launched again as they are',
    ]);
  });
  it('is done when the default already requires IMDSv2; refused under a declarative policy or with unread parts', () => {
    expect(lockPlan(inventory({ ...lockable(), metadataDefaults: { HttpTokens: 'required' } }), { enforce: false, nowMs: NOW })[0]?.action).toBe('done');
    expect(lockPlan(inventory({ ...lockable(), metadataDefaults: { ManagedBy: 'declarative-policy' } }), { enforce: false, nowMs: NOW })[0]?.reasons)
      .toEqual(['the defaults are set by an AWS Organizations declarative policy: change the policy instead']);
    const inv = inventory(lockable());
    inv.errors.push({ ...SCOPE, what: 'instances', code: 'UnauthorizedOperation', message: 'no' });
    expect(lockPlan(inv, { enforce: false, nowMs: NOW })[0]?.reasons).toEqual(['not everything could be read: instances (UnauthorizedOperation)']);
  });
});

describe('dashboardBody', () => {
  it('per region the top-processes query, and per wave the instances that allow IMDSv1, most calls first, in queries of 40', () => {
    const answers = scopeAnswers();
    for (let n = 0; n < 45; n++) answers.instances.push({ ...answers.instances[2], InstanceId: `i-${String(n).padStart(17, '0')}` });
    const m = new Map([['i-00000000000000044', metrics({ agentDays: daily(7, 1), v1ByProcess: new Map([['curl', daily(7, 3)]]) })]]);
    const body = dashboardBody(buildReport(inventory(answers), m, { windowDays: 7, nowMs: NOW }), SCOPE.account, 'IMDSSniff');
    expect(body.widgets.map((w) => w.properties.title)).toEqual([
      'IMDSv1 calls by process, top 10 (eu-west-1)',
      'Instances with IMDSv1 calls, wave 1 (instance refresh) (eu-west-1, 1 still allow IMDSv1)',
      'Instances with IMDSv1 calls, wave 2 (stateful / hand-built) (eu-west-1, 46 still allow IMDSv1)',
    ]);
    expect(body.widgets[0]?.properties.metrics[0]?.[0].expression).toBe('SELECT SUM(IMDSv1Calls) FROM SCHEMA(IMDSSniff, InstanceId, Process) GROUP BY Process ORDER BY SUM() DESC LIMIT 10');
    const wave2 = body.widgets[2]?.properties.metrics.map((q) => q[0].expression) ?? [];
    expect(wave2).toHaveLength(2);
    expect(wave2[0]).toMatch(/^SELECT SUM\(IMDSv1Calls\) FROM SCHEMA\(IMDSSniff, InstanceId\) WHERE InstanceId = 'i-00000000000000044' OR /);
    expect(wave2[0]?.split(' OR ')).toHaveLength(IDS_PER_QUERY);
    expect(dashboardBody(buildReport(inventory(), new Map(), { windowDays: 7, nowMs: NOW }), SCOPE.account, 'My/NS').widgets[0]?.properties.metrics[0]?.[0].expression).toContain('SCHEMA("My/NS", InstanceId, Process)');
  });
});

describe('waveTargets', () => {
  it('sends to ready instances of the wave only; blocked, excepted and unobserved ones are skipped with the reason', () => {
    const answers = scopeAnswers();
    for (const id of ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003']) answers.instances.push({ ...answers.instances[2], Tags: [...(answers.instances[2]?.Tags ?? [])], InstanceId: id });
    answers.instances.find((i) => i.InstanceId === 'i-00000000000000003')?.Tags?.push({ Key: 'imds-sniff:exception', Value: 'appliance' });
    const m = new Map([
      ['i-0000000000000pet1', metrics({ agentDays: daily(7, 0) })],
      ['i-00000000000000001', metrics({ agentDays: daily(7, 1), v1ByProcess: new Map([['curl', daily(7, 1)]]) })],
    ]);
    const t = waveTargets(buildReport(inventory(answers), m, { windowDays: 7, nowMs: NOW }), 2, { includeNoData: false });
    expect([...t.byScope.values()]).toEqual([{ ...SCOPE, instanceIds: ['i-0000000000000pet1'] }]);
    expect(t.skipped.map((s) => [s.instanceId, s.why.split(':')[0]])).toEqual([
      ['i-00000000000000001', 'still used'],
      ['i-00000000000000002', 'no agent and no EC2 metadata metrics (--include-no-data sends it anyway; its own gate decides)'],
      ['i-00000000000000003', 'exception'],
    ]);
    expect(waveTargets(buildReport(inventory(answers), m, { windowDays: 7, nowMs: NOW }), 2, { includeNoData: true }).byScope.get(`${SCOPE.account}/${SCOPE.region}`)?.instanceIds)
      .toEqual(['i-00000000000000002', 'i-0000000000000pet1']);
  });
});

describe('hostOutcome (SSM invocation → result)', () => {
  it('reads the on-host JSON: enforced, refused with the processes, failed with the first error', () => {
    expect(hostOutcome('enforce', 'i-1', 'Success', 0, '{"result":"verified"}\n', '')).toEqual({ instanceId: 'i-1', outcome: 'enforced', processes: [], detail: 'verified' });
    const refused = `{"result":"refused","gate":{"ok":false,"reasons":["IMDSv1 calls"],"offenders":["python3","cron@abc"]}}\n----------ERROR-------\nimds-sniff: not changing`;
    expect(hostOutcome('enforce', 'i-2', 'Failed', 6, refused, '')).toEqual({ instanceId: 'i-2', outcome: 'refused', processes: ['python3', 'cron@abc'], detail: 'IMDSv1 callers: python3, cron@abc' });
    expect(hostOutcome('enforce', 'i-3', 'Failed', 1, 'imds-sniff is not installed\n', '')).toEqual({ instanceId: 'i-3', outcome: 'failed', processes: [], detail: 'imds-sniff is not installed' });
    expect(hostOutcome('enforce', 'i-3', 'Failed', 127, '', '')).toMatchObject({ outcome: 'failed', detail: 'SSM status Failed, exit 127' });
    expect(hostOutcome('rollback', 'i-4', 'Success', 0, '{"result":"verified"}', '').outcome).toBe('rolled-back');
    expect(hostOutcome('enforce', 'i-5', 'Failed', 5, '{"result":"failed","error":"ModifyInstanceMetadataOptions: not authorized"}', '').detail).toBe('ModifyInstanceMetadataOptions: not authorized');
    // A run that ended before its report prints only its error line; after a report, the report still decides.
    const early = '{"event":"error","code":"ERR_AWS_DESCRIBE_INSTANCES","exit_code":5,"message":"DescribeInstances on i-6 in us-east-1: not authorized (UnauthorizedOperation)","hint":null}\n';
    expect(hostOutcome('enforce', 'i-6', 'Failed', 5, early, '')).toMatchObject({ outcome: 'failed', detail: 'DescribeInstances on i-6 in us-east-1: not authorized (UnauthorizedOperation)' });
    const reportThenError = '{"result":"refused","gate":{"offenders":["cron"]},"error_code":"ERR_GATE_REFUSED","exit_code":6}\n{"event":"error","code":"ERR_INTERNAL","exit_code":1,"message":"x","hint":null}\n';
    expect(hostOutcome('enforce', 'i-7', 'Failed', 1, reportThenError, '')).toMatchObject({ outcome: 'refused', processes: ['cron'] });
  });
});

describe('launchPlan', () => {
  it('one new version per source version, groups moved to it unless they follow; a configuration copied; refreshes last', () => {
    const answers = scopeAnswers();
    answers.autoScalingGroups.push({ AutoScalingGroupName: 'web2-asg', LaunchTemplate: { LaunchTemplateId: 'lt-web', Version: '1' }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) });
    const plan = launchPlan(inventory(answers), { setDefault: false, refresh: true });
    expect(plan.steps.map(describeStep)).toEqual([
      '111122223333 eu-west-1: copy launch configuration legacy-lc to legacy-lc-imdsv2 with HttpTokens=required (for legacy-asg)',
      '111122223333 eu-west-1: new version of launch template web from v1 with HttpTokens=required (for web-asg, web2-asg)',
      '111122223333 eu-west-1: Auto Scaling group legacy-asg launches from launch configuration legacy-lc-imdsv2',
      '111122223333 eu-west-1: Auto Scaling group web-asg launches from the new version of lt-web made from v1',
      '111122223333 eu-west-1: Auto Scaling group web2-asg launches from the new version of lt-web made from v1',
      '111122223333 eu-west-1: instance refresh of legacy-asg (its instances replaced by IMDSv2-only ones)',
      '111122223333 eu-west-1: instance refresh of web-asg (its instances replaced by IMDSv2-only ones)',
      '111122223333 eu-west-1: instance refresh of web2-asg (its instances replaced by IMDSv2-only ones)',
    ]);
  });
  it('groups on different versions of one template: a copy of each, the latest copied last ($Latest follows it), each group on its own', () => {
    const answers = scopeAnswers();
    // web v2 allows IMDSv1 too here; web-asg stays on $Default (v1), web2-asg on $Latest (v2), web1-asg pinned to 1.
    const v2 = answers.launchTemplateVersions.find((v) => v.LaunchTemplateId === 'lt-web' && v.VersionNumber === 2);
    if (v2?.LaunchTemplateData?.MetadataOptions) v2.LaunchTemplateData.MetadataOptions.HttpTokens = 'optional';
    const group = (name: string, version: string) => ({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateId: 'lt-web', Version: version }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) });
    answers.autoScalingGroups = [group('web2-asg', '$Latest'), group('web1-asg', '1'), answers.autoScalingGroups[0]!];
    const steps = launchPlan(inventory(answers), { setDefault: true, refresh: false }).steps;
    expect(steps.map((x) => (x.kind === 'template-version' ? `make from v${x.sourceVersion}${x.setDefault ? ' (default)' : ''}` : x.kind === 'group-update' && 'templateId' in x.to ? `${x.group} -> copy of v${x.to.sourceVersion}` : x.kind))).toEqual([
      'make from v1 (default)', // the default's copy becomes the default: web-asg on $Default follows
      'make from v2', // the latest's copy last: web2-asg on $Latest follows
      'web1-asg -> copy of v1',
    ]);
  });

  it('a group launching from a mixed instances policy is left to the operator', () => {
    const answers = scopeAnswers();
    answers.autoScalingGroups = [{ AutoScalingGroupName: 'mixed-asg', MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-web', Version: '1' } } }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) }];
    const plan = launchPlan(inventory(answers), { setDefault: false, refresh: true });
    expect(plan.steps).toEqual([]);
    expect(plan.skipped.map((x) => x.why)).toEqual(['launches from a mixed instances policy: make a version of web with HttpTokens=required and set it in the policy by hand']);
  });

  it('with --set-default a group on $Default follows the new default: no group update', () => {
    const plan = launchPlan(inventory(), { setDefault: true, refresh: false });
    expect(plan.steps.filter((x) => x.kind === 'group-update').map((x) => (x.kind === 'group-update' ? x.group : ''))).toEqual(['legacy-asg']);
    expect(plan.steps.find((x) => x.kind === 'template-version')).toMatchObject({ templateId: 'lt-web', sourceVersion: 1, setDefault: true });
  });
});

describe('hostArgsProblem (what a wave may pass to the on-host enforce)', () => {
  it('allows the gate\'s own knobs, nothing that bypasses it or points it elsewhere', () => {
    expect(hostArgsProblem('')).toBeNull();
    expect(hostArgsProblem('--min-observation 7d --timeout 30s --hop-limit 2 --dry-run')).toBeNull();
    expect(hostArgsProblem('--min-observation=1h')).toBeNull();
    expect(hostArgsProblem('--force')).toBe('--force is not allowed (only --min-observation, --timeout, --hop-limit, --dry-run)');
    expect(hostArgsProblem('--instance-id i-0abc')).toMatch(/^--instance-id is not allowed/);
    expect(hostArgsProblem('--min-observation')).toBe('--min-observation needs a value like 7d');
    expect(hostArgsProblem('--hop-limit 999')).toBe('--hop-limit needs a value like 2');
    expect(hostArgsProblem('--dry-run=yes')).toBe('--dry-run takes no value');
    expect(hostArgsProblem('--min-observation 7d; reboot')).toBe('it may only hold letters, digits, spaces and . _ = : -');
  });
});
