// summary/: pure: which entries of a per-process table to fold, and into what, so a daemon's tables stay bounded.

/** One entry of a bounded per-process table, as the fold plan sees it. */
export interface FoldCandidate {
  key: string;
  /** ISO time of the entry's last request. */
  lastSeen: string;
  /** The entry is evidence the gate reads (an IMDSv1 call, a token answer lost at the hop): folded last. */
  evidence: boolean;
  /** The program-wide bucket a container entry folds into (same program, any container); null: not a container's. */
  programKey: string | null;
  /** A bucket made by folding: a program bucket folds only into `other`; `other` is never folded. */
  bucket: 'program' | 'other' | null;
}

/** Where a folded entry goes. */
export type FoldTarget = { into: 'program'; key: string } | { into: 'other' };

/** Share of the cap a table is folded down to: folding runs once per tenth of the cap, not per new entry. */
export const FOLD_TO_SHARE = 0.9;

/**
 * The order entries fold in, by what is lost: first what the gate does not
 * need (no IMDSv1); then an IMDSv1 caller in a container, which keeps its
 * program's name in the bucket; then a program bucket without IMDSv1; then an
 * IMDSv1 caller on the host, whose name is lost in `other`; last a program
 * bucket with IMDSv1 callers.
 */
function foldRank(e: FoldCandidate): number {
  if (e.bucket === null) return !e.evidence ? 0 : e.programKey !== null ? 1 : 3;
  return e.evidence ? 4 : 2;
}

/**
 * Plans the folds that bring a table of `entries` back to at most `maxEntries`
 * (down to FOLD_TO_SHARE of it), in `foldRank` order, the oldest first. A container's entry folds into its program's bucket (the name
 * survives, the container id does not); everything else, program buckets
 * included, into `other`. A bucket keeps the latest times of what it holds, so
 * an IMDSv1 caller inside the gate's window still refuses the change, under its
 * program's name or `other`. Buckets this plan creates are not folded by it:
 * call again while the table is still over the cap (at most twice more).
 */
export function planFolds(entries: readonly FoldCandidate[], maxEntries: number): Map<string, FoldTarget> {
  const plan = new Map<string, FoldTarget>();
  if (entries.length <= maxEntries) return plan;
  const keepTo = Math.max(1, Math.floor(maxEntries * FOLD_TO_SHARE));
  const existing = new Set(entries.map((e) => e.key));
  let size = entries.length;
  let otherExists = entries.some((e) => e.bucket === 'other');
  const candidates = entries
    .filter((e) => e.bucket !== 'other')
    .sort((a, b) => foldRank(a) - foldRank(b) || (a.lastSeen < b.lastSeen ? -1 : a.lastSeen > b.lastSeen ? 1 : 0));
  for (const entry of candidates) {
    if (size <= keepTo) break;
    if (entry.programKey !== null && entry.bucket === null) {
      plan.set(entry.key, { into: 'program', key: entry.programKey });
      if (!existing.has(entry.programKey)) existing.add(entry.programKey);
      else size -= 1;
    } else {
      plan.set(entry.key, { into: 'other' });
      size -= 1;
      if (!otherExists) {
        otherExists = true;
        size += 1;
      }
    }
  }
  return plan;
}
