// Unit tests: Embedded Metric Format line shape and the EMF file writer.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { intervalSeries } from '../../../../src/sinks/metrics/datums.js';
import { emfLines } from '../../../../src/sinks/metrics/emf-format.js';
import { EmfWriter } from '../../../../src/sinks/metrics/emf-writer.js';
import { zeroCounts, type ClosedInterval } from '../../../../src/sinks/metrics/interval-counts.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const identity = { instanceId: 'i-0123456789abcdef0', autoScalingGroupName: 'web-asg' };

const interval: ClosedInterval = {
  id: `${T0}-r-0`, startMs: T0, endMs: T0 + 60_000, late: false,
  processes: new Map([['curl', { ...zeroCounts(), IMDSv1Calls: 2, IMDSErrors: 1 }], ['idle', zeroCounts()]]),
};

describe('emfLines', () => {
  it('writes one line per process with calls and one instance aggregate line, in the EMF shape', () => {
    const lines = emfLines(intervalSeries(interval, { identity, includeAutoScalingGroup: true }), 'IMDSSniff', T0).map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      {
        _aws: { Timestamp: T0, CloudWatchMetrics: [{ Namespace: 'IMDSSniff', Dimensions: [['InstanceId', 'Process']], Metrics: [{ Name: 'IMDSv1Calls', Unit: 'Count' }, { Name: 'IMDSErrors', Unit: 'Count' }] }] },
        InstanceId: 'i-0123456789abcdef0', Process: 'curl', IMDSv1Calls: 2, IMDSErrors: 1,
      },
      {
        _aws: {
          Timestamp: T0,
          CloudWatchMetrics: [{
            Namespace: 'IMDSSniff', Dimensions: [['InstanceId'], ['AutoScalingGroupName']],
            Metrics: ['IMDSv1Calls', 'IMDSv2TokenCalls', 'IMDSv2Calls', 'IMDSv1Rejected', 'IMDSErrors'].map((Name) => ({ Name, Unit: 'Count' })),
          }],
        },
        InstanceId: 'i-0123456789abcdef0', AutoScalingGroupName: 'web-asg',
        IMDSv1Calls: 2, IMDSv2TokenCalls: 0, IMDSv2Calls: 0, IMDSv1Rejected: 0, IMDSErrors: 1,
      },
    ]);
  });
});

describe('EmfWriter', () => {
  it('appends whole lines to a file created with mode 0640', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'imds-sniff-emf-')), 'metrics.jsonl');
    const writer = new EmfWriter(file);
    writer.append(['{"a":1}', '{"b":2}']);
    writer.append([]);
    writer.append(['{"c":3}']);
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(writer.stats).toEqual({ lines: 3, failedWrites: 0 });
  });

  it('throws and counts when the file cannot be written', () => {
    const writer = new EmfWriter('/nonexistent-dir/metrics.jsonl');
    expect(() => writer.append(['{}'])).toThrow(/ENOENT/);
    expect(writer.stats.failedWrites).toBe(1);
  });
});
