// Unit tests: closed interval → CloudWatch datums (zero process series omitted, instance and group aggregates).
import { describe, expect, it } from 'vitest';
import type { MetricsIdentity } from '../../../../src/sinks/metrics/config.js';
import { intervalDatums, intervalSeries } from '../../../../src/sinks/metrics/datums.js';
import { zeroCounts, type ClosedInterval, type ProcessCounts } from '../../../../src/sinks/metrics/interval-counts.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const ID: MetricsIdentity = { instanceId: 'i-0123456789abcdef0', autoScalingGroupName: 'web-asg' };

function interval(processes: Record<string, Partial<ProcessCounts>>, late = false): ClosedInterval {
  return { id: `${T0}-r-0`, startMs: T0, endMs: T0 + 60_000, late, processes: new Map(Object.entries(processes).map(([n, c]) => [n, { ...zeroCounts(), ...c }])) };
}

/** `Metric{dims}=value` for compact comparisons. */
function short(i: ClosedInterval, includeAutoScalingGroup = false, identity: MetricsIdentity = ID): string[] {
  return intervalDatums(i, { identity, includeAutoScalingGroup }).map((d) =>
    `${d.MetricName ?? ''}{${(d.Dimensions ?? []).map((x) => `${x.Name ?? ''}=${x.Value ?? ''}`).join(',')}}=${d.Value ?? ''}`);
}

const AGG_ZERO = ['IMDSv1Calls', 'IMDSv2TokenCalls', 'IMDSv2Calls', 'IMDSv1Rejected', 'IMDSErrors'].map((m) => `${m}{InstanceId=i-0123456789abcdef0}=0`);

describe('intervalDatums', () => {
  it.each<[string, ClosedInterval, boolean, string[]]>([
    ['a silent instance reports zero aggregates and no process series', interval({}), false, AGG_ZERO],
    ['a process sends only its non-zero metrics; the aggregate sums all', interval({ curl: { IMDSv1Calls: 3, IMDSv1Rejected: 1, IMDSErrors: 1 }, node: { IMDSv2TokenCalls: 1, IMDSv2Calls: 2 } }), false, [
      'IMDSv1Calls{InstanceId=i-0123456789abcdef0,Process=curl}=3',
      'IMDSv1Rejected{InstanceId=i-0123456789abcdef0,Process=curl}=1',
      'IMDSErrors{InstanceId=i-0123456789abcdef0,Process=curl}=1',
      'IMDSv2TokenCalls{InstanceId=i-0123456789abcdef0,Process=node}=1',
      'IMDSv2Calls{InstanceId=i-0123456789abcdef0,Process=node}=2',
      'IMDSv1Calls{InstanceId=i-0123456789abcdef0}=3', 'IMDSv2TokenCalls{InstanceId=i-0123456789abcdef0}=1',
      'IMDSv2Calls{InstanceId=i-0123456789abcdef0}=2', 'IMDSv1Rejected{InstanceId=i-0123456789abcdef0}=1', 'IMDSErrors{InstanceId=i-0123456789abcdef0}=1',
    ]],
    ['a process whose counts are all zero sends nothing', interval({ idle: {} }), false, AGG_ZERO],
    ['the Auto Scaling group aggregate when asked', interval({}), true, [...AGG_ZERO, ...AGG_ZERO.map((s) => s.replace('InstanceId=i-0123456789abcdef0', 'AutoScalingGroupName=web-asg'))]],
    ['foreign-cloud probes: their own metric, per process and in the aggregate only when not zero', interval({ node: { ForeignCloudProbes: 2, IMDSv2Calls: 1 } }), false, [
      'IMDSv2Calls{InstanceId=i-0123456789abcdef0,Process=node}=1',
      'ForeignCloudProbes{InstanceId=i-0123456789abcdef0,Process=node}=2',
      'IMDSv1Calls{InstanceId=i-0123456789abcdef0}=0', 'IMDSv2TokenCalls{InstanceId=i-0123456789abcdef0}=0',
      'IMDSv2Calls{InstanceId=i-0123456789abcdef0}=1', 'IMDSv1Rejected{InstanceId=i-0123456789abcdef0}=0', 'IMDSErrors{InstanceId=i-0123456789abcdef0}=0',
      'ForeignCloudProbes{InstanceId=i-0123456789abcdef0}=2',
    ]],
    ['a late interval adds only what is not zero', interval({ curl: { IMDSv1Calls: 1 } }, true), false, [
      'IMDSv1Calls{InstanceId=i-0123456789abcdef0,Process=curl}=1', 'IMDSv1Calls{InstanceId=i-0123456789abcdef0}=1',
    ]],
  ])('%s', (_label, i, asg, expected) => {
    expect(short(i, asg)).toEqual(expected);
  });

  it('leaves the Auto Scaling group out when it is not known', () => {
    expect(short(interval({}), true, { ...ID, autoScalingGroupName: null })).toEqual(AGG_ZERO);
  });

  it('timestamps every datum at the interval start, unit Count', () => {
    const datums = intervalDatums(interval({ curl: { IMDSv1Calls: 1 } }), { identity: ID, includeAutoScalingGroup: false });
    expect(new Set(datums.map((d) => d.Timestamp?.getTime()))).toEqual(new Set([T0]));
    expect(new Set(datums.map((d) => d.Unit))).toEqual(new Set(['Count']));
  });

  it('names both dimension sets of the aggregate in one series (for EMF)', () => {
    const series = intervalSeries(interval({}), { identity: ID, includeAutoScalingGroup: true });
    expect(series).toEqual([{ dimensions: { InstanceId: ID.instanceId, AutoScalingGroupName: 'web-asg' }, dimensionSets: [['InstanceId'], ['AutoScalingGroupName']], values: { IMDSv1Calls: 0, IMDSv2TokenCalls: 0, IMDSv2Calls: 0, IMDSv1Rejected: 0, IMDSErrors: 0 } }]);
  });
});
