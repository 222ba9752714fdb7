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
});
