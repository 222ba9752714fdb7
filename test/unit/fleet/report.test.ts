import { describe, expect, it } from 'vitest';
import { assembleScope } from '../../../src/fleet/inventory/assemble.js';
import type { Inventory } from '../../../src/fleet/model.js';
import { buildReport } from '../../../src/fleet/report/build.js';
import { exceptionOf } from '../../../src/fleet/report/exception-tag.js';
import type { InstanceMetrics } from '../../../src/fleet/report/model.js';
import { fixFor, programOf } from '../../../src/fleet/report/process-fix.js';
import { DAY, NOW, SCOPE, daily, metrics, scopeAnswers } from './fixtures.js';

function inventory(answers = scopeAnswers()): Inventory {
  const items = assembleScope(answers);
  return {
    collectedAt: new Date(NOW).toISOString(), scopes: [SCOPE], instances: items.instances, launchTemplateVersions: items.launchTemplateVersions,
    launchConfigurations: items.launchConfigurations, autoScalingGroups: items.autoScalingGroups, accountDefaults: items.accountDefault ? [items.accountDefault] : [], errors: [], calls: {},
  };
}

const options = { windowDays: 14, nowMs: NOW };

describe('buildReport: a verdict per instance', () => {
  it('enforced, blocked by the processes seen, ready after a whole window without IMDSv1, no data, IMDSv1 seen without an agent', () => {
    const m = new Map<string, InstanceMetrics>([
      ['i-0000000000000web1', metrics({ agentDays: daily(14, (d) => (d % 2 === 0 ? 2 : 0) + (d === 0 ? 1 : 0)), v1ByProcess: new Map([['python3', daily(14, (d) => (d % 2 === 0 ? 2 : 0))], ['curl', daily(1, 1)]]) })],
      ['i-0000000000000pet1', metrics({ agentDays: daily(14, 0) })],
      ['i-0000000000000pet2', metrics({ metadataNoTokenRejected: daily(2, 4) })],
    ]);
    const r = buildReport(inventory(), m, options);
    const v = Object.fromEntries(r.instances.map((x) => [x.instance.id, [x.verdict, x.detail]]));
    expect(v).toEqual({
      'i-0000000000000web1': ['blocked', 'IMDSv1 from python3 (14), curl (1)'],
      'i-0000000000000pet1': ['ready', 'agent reported 14 of 14 days, no IMDSv1'],
      'i-0000000000000pet2': ['enforced', 'HttpTokens required; EC2 refused 8 IMDSv1 calls in the window (something still tries)'],
      'i-000000000000batch': ['enforced', 'HttpTokens required'],
      'i-0000000000000off1': ['enforced', 'IMDS disabled'],
    });
    expect(r.totals.byVerdict).toEqual({ blocked: 1, 'v1-no-agent': 0, 'no-data': 0, exception: 0, ready: 1, enforced: 3 });
  });

  it('IMDSv1 calls the instance aggregate counted but no process series names still block (a series older than ListMetrics sees)', () => {
    const m = new Map([['i-0000000000000pet1', metrics({ agentDays: daily(14, (d) => (d === 13 ? 5 : 0)), v1ByProcess: new Map([['curl', daily(1, 1)]]) })]]);
    const pet = buildReport(inventory(), m, options).instances.find((x) => x.instance.id === 'i-0000000000000pet1');
    expect(pet).toMatchObject({ verdict: 'blocked', detail: 'IMDSv1 from (process not named) (4), curl (1)' });
  });

  it('an agent that reported part of the window is not ready yet; EC2 MetadataNoToken names instances without the agent', () => {
    const m = new Map<string, InstanceMetrics>([
      ['i-0000000000000web1', metrics({ agentDays: daily(3, 0) })],
      ['i-0000000000000pet1', metrics({ metadataNoToken: daily(2, 7) })],
    ]);
    const v = Object.fromEntries(buildReport(inventory(), m, options).instances.map((x) => [x.instance.id, x]));
    expect(v['i-0000000000000web1']).toMatchObject({ verdict: 'no-data', detail: 'agent reported 3 of 14 days so far, no IMDSv1 yet' });
    expect(v['i-0000000000000pet1']).toMatchObject({ verdict: 'v1-no-agent', v1Calls: 14, agent: false });
  });

  it('an exception tag holds until its day; an expired one is judged as usual and listed', () => {
    const answers = scopeAnswers();
    const pet = answers.instances.find((i) => i.InstanceId === 'i-0000000000000pet1');
    pet?.Tags?.push({ Key: 'imds-sniff:exception', Value: 'vendor appliance;until=2026-12-31' });
    const web = answers.instances.find((i) => i.InstanceId === 'i-0000000000000web1');
    web?.Tags?.push({ Key: 'imds-sniff:exception', Value: 'old job;until=2026-12-01' });
    const m = new Map([['i-0000000000000web1', metrics({ agentDays: daily(14, 1), v1ByProcess: new Map([['java', daily(14, 1)]]) })]]);
    const r = buildReport(inventory(answers), m, options);
    const v = Object.fromEntries(r.instances.map((x) => [x.instance.id, [x.verdict, x.detail]]));
    expect(v['i-0000000000000pet1']).toEqual(['exception', 'exception: vendor appliance (until 2026-12-31)']);
    expect(v['i-0000000000000web1']).toEqual(['blocked', 'IMDSv1 from java (14) (exception expired 2026-12-01)']);
    expect(r.expiredExceptions).toEqual(['i-0000000000000web1']);
  });

  it('waves: group members by environment, hand-built as 2, the tag and the command line override', () => {
    const answers = scopeAnswers();
    answers.instances.find((i) => i.InstanceId === 'i-0000000000000pet2')?.Tags?.push({ Key: 'imds-sniff:wave', Value: '0' });
    const r = buildReport(inventory(answers), new Map(), { ...options, waveOverrides: new Map([['i-0000000000000off1', 1 as const]]) });
    const w = Object.fromEntries(r.instances.map((x) => [x.instance.id, [x.wave, x.waveReason]]));
    expect(w).toEqual({
      'i-0000000000000web1': [1, 'in group web-asg (instance refresh)'],
      'i-000000000000batch': [0, 'in group batch-asg, environment dev'],
      'i-0000000000000pet1': [2, 'not in an Auto Scaling group (hand-built)'],
      'i-0000000000000pet2': [0, 'tag imds-sniff:wave=0'],
      'i-0000000000000off1': [1, 'set on the command line'],
    });
  });

  it('daily totals per process and per wave, and one fix row per program across containers', () => {
    const answers = scopeAnswers();
    answers.instances.push({ ...answers.instances[2], InstanceId: 'i-0000000000000pet3' });
    const m = new Map<string, InstanceMetrics>([
      ['i-0000000000000web1', metrics({ agentDays: daily(14, 1), v1ByProcess: new Map([['java@3f9a1c2b7d4e', daily(2, 5)]]) })],
      ['i-0000000000000pet1', metrics({ agentDays: daily(14, 1), v1ByProcess: new Map([['java', daily(1, 1)], ['curl', daily(1, 2)]]) })],
      ['i-0000000000000pet3', metrics({ agentDays: daily(14, 1), v1ByProcess: new Map([['curl', daily(1, 2)]]) })],
    ]);
    const r = buildReport(inventory(answers), m, options);
    expect(r.daily.days).toHaveLength(14);
    expect(r.daily.days[13]).toBe(Math.floor(NOW / DAY) * DAY);
    expect(r.daily.byProcess['java@3f9a1c2b7d4e']?.slice(-2)).toEqual([5, 5]);
    expect(r.daily.byWave['1'].slice(-2)).toEqual([5, 5]);
    expect(r.daily.byWave['2'].slice(-1)).toEqual([5]);
    expect(r.processes.map((p) => [p.program, p.instances, p.calls])).toEqual([['java', 2, 11], ['curl', 2, 4]]);
    expect(r.processes[0]?.process).toBe('java, java@3f9a1c2b7d4e');
  });

  it('launch paths: those that still allow IMDSv1 come first, each with the exact fix', () => {
    const r = buildReport(inventory(), new Map(), options);
    const open = r.launchPaths.filter((p) => p.posture?.allowsV1);
    expect(open.map((p) => [p.kind, p.name])).toEqual([
      ['account-default', 'account default (HttpTokens no-preference)'],
      ['auto-scaling-group', 'legacy-asg'],
      ['auto-scaling-group', 'web-asg'],
      ['launch-configuration', 'legacy-lc'],
      ['launch-template-version', 'web (lt-web) v1 [default, used by web-asg]'],
    ]);
    const web = open.find((p) => p.name === 'web-asg');
    expect(web?.fix).toBe("aws ec2 create-launch-template-version --region eu-west-1 --launch-template-id lt-web --source-version 1 --launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\"}}'; "
      + "then aws autoscaling update-auto-scaling-group --region eu-west-1 --auto-scaling-group-name web-asg --launch-template 'LaunchTemplateId=lt-web,Version=$Latest'; then an instance refresh (aws autoscaling start-instance-refresh --auto-scaling-group-name web-asg)");
    expect(open.find((p) => p.kind === 'launch-configuration')?.fix).toMatch(/^launch configurations cannot change: copy legacy-lc .*--launch-configuration-name legacy-lc-imdsv2$/);
    expect(r.launchPaths.filter((p) => p.posture?.allowsV1 === false).every((p) => p.fix === null)).toBe(true);
  });
});

describe('exception tags and process fixes', () => {
  it('reads reason and until; an until that is no date counts as expired', () => {
    expect(exceptionOf({ 'imds-sniff:exception': 'legacy app' }, NOW)).toEqual({ reason: 'legacy app', until: null, expired: false });
    expect(exceptionOf({ 'imds-sniff:exception': 'x;until=soon' }, NOW)).toEqual({ reason: 'x', until: 'soon', expired: true });
    expect(exceptionOf({ 'imds-sniff:exception': 'x;until=2026-12-04' }, NOW)?.expired).toBe(false);
    expect(exceptionOf({}, NOW)).toBeNull();
  });
  it('names the usual fix for known programs, and a generic one otherwise', () => {
    expect(programOf('java@3f9a1c2b7d4e')).toBe('java');
    expect(fixFor('curl')).toMatch(/PUT \/latest\/api\/token/);
    expect(fixFor('python3.11')).toMatch(/^a Python program/);
    expect(fixFor('my-daemon')).toMatch(/^find its command line/);
  });
});
