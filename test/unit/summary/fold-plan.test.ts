import { describe, expect, it } from 'vitest';
import { planFolds, type FoldCandidate } from '../../../src/summary/fold-plan.js';

const at = (minute: number): string => new Date(Date.UTC(2026, 11, 1, 10, minute)).toISOString();
const entry = (key: string, minute: number, over: Partial<FoldCandidate> = {}): FoldCandidate => ({ key, lastSeen: at(minute), evidence: false, programKey: null, bucket: null, ...over });

describe('planFolds', () => {
  it('plans nothing while the table is within its cap', () => {
    expect(planFolds([entry('a', 1), entry('b', 2)], 2).size).toBe(0);
  });

  it('folds the oldest entries that are not evidence first, down to 90% of the cap', () => {
    const entries = [
      entry('old-v1', 0, { evidence: true }),
      ...Array.from({ length: 10 }, (_, i) => entry(`p${i}`, i + 1)),
    ];
    const plan = planFolds(entries, 10); // 11 entries; fold to 9: `other` is made, so three go
    expect([...plan.keys()]).toEqual(['p0', 'p1', 'p2']);
    expect([...plan.values()].every((t) => t.into === 'other')).toBe(true);
  });

  it("folds a container's entry into its program's bucket, the rest into other; never folds other itself", () => {
    const entries = [
      entry('other', 0, { bucket: 'other' }),
      entry('curl@aaa', 1, { programKey: 'curl@*' }),
      entry('curl@bbb', 2, { programKey: 'curl@*' }),
      entry('cron', 3),
      entry('curl@*', 4, { bucket: 'program', programKey: 'curl@*' }),
      entry('node', 5),
    ];
    const plan = planFolds(entries, 4);
    expect(plan.has('other')).toBe(false);
    expect(plan.get('curl@aaa')).toEqual({ into: 'program', key: 'curl@*' });
    expect(plan.get('curl@bbb')).toEqual({ into: 'program', key: 'curl@*' });
    expect(plan.get('cron')).toEqual({ into: 'other' }); // 6 → 3 (90% of 4): the two containers join curl@*, cron joins other
    expect(plan.size).toBe(3);
  });

  it('folds evidence (IMDSv1 callers) only when nothing else is left, oldest first', () => {
    const entries = Array.from({ length: 6 }, (_, i) => entry(`v1-${i}`, 10 - i, { evidence: true }));
    const plan = planFolds(entries, 4); // `other` is made by the first fold: four go to reach 3
    expect([...plan.keys()]).toEqual(['v1-5', 'v1-4', 'v1-3', 'v1-2']);
  });

  it('loses the least first: an IMDSv1 caller in a container (its program stays named) before a program bucket, before a named IMDSv1 caller on the host', () => {
    const entries = [
      entry('other', 0, { bucket: 'other' }),
      entry('legacy-agent', 1, { evidence: true }),
      entry('aws@*', 2, { bucket: 'program', programKey: 'aws@*' }),
      entry('curl@*', 3, { bucket: 'program', programKey: 'curl@*', evidence: true }),
      entry('curl@ccc', 9, { evidence: true, programKey: 'curl@*' }),
      entry('python@ddd', 8, { evidence: true, programKey: 'python@*' }),
    ];
    // Cap 5 (fold to 4; python@* is new): both containers go first, then the IMDSv2-only bucket; the host's IMDSv1 caller keeps its name.
    expect([...planFolds(entries, 5)]).toEqual([
      ['python@ddd', { into: 'program', key: 'python@*' }],
      ['curl@ccc', { into: 'program', key: 'curl@*' }],
      ['aws@*', { into: 'other' }],
    ]);
    // Only past that does the host's IMDSv1 caller fold (into other), and the bucket with IMDSv1 callers last.
    expect([...planFolds(entries, 3).keys()]).toEqual(['python@ddd', 'curl@ccc', 'aws@*', 'legacy-agent', 'curl@*']);
  });
});
