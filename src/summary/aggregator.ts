// summary/: pure per-process aggregation of imds_request events (bounded: old and surplus identities fold into buckets) and the IMDSv2 readiness verdict.

import type { ProcessSummary, Verdict } from '../contract/process-summary.js';
import type { ImdsRequestEvent } from '../contract/imds-request-event.js';
import { OTHER_PROCESS } from '../contract/metric-names.js';
import { planFolds, type FoldCandidate } from './fold-plan.js';



const MAX_PIDS = 10;

/** Distinct identities a run keeps apart (a host with container churn makes new ones without end). */
export const MAX_SUMMARY_PROCESSES = 1000;
/** The identity of the bucket everything past the cap folds into at last. */
const OTHER_KEY = '\u0001other';

/**
 * Folds events into per-process summaries. Events marked `own` are the agent's
 * and are left out. A process in another network namespace than the agent's
 * (a container without a recognisable cgroup) is kept apart from the host's.
 */
export class Aggregator {
  private readonly byIdentity = new Map<string, ProcessSummary>();
  /** Summaries whose cmdline already comes from an IMDSv1 call. */
  private readonly cmdlineFromV1 = new Set<ProcessSummary>();
  ownRequests = 0;

  /**
   * @param hostNetns inode of the agent's own network namespace, when known.
   * @param maxProcesses identities kept apart; past it, old ones fold into buckets (fold-plan.ts).
   */
  constructor(
    private readonly hostNetns: number | null = null,
    private readonly maxProcesses = MAX_SUMMARY_PROCESSES,
  ) {}

  private foreignNetns(e: ImdsRequestEvent): number | null {
    return e.container_id === null && e.netns !== null && this.hostNetns !== null && e.netns !== this.hostNetns ? e.netns : null;
  }

  private identity(e: ImdsRequestEvent): string {
    // Without a process (offline analysis, or the owner was never found) the client address is all there is.
    const client = e.pid === null && e.comm === null ? e.src_ip : '';
    return `${e.exe ?? ''}\u0000${e.comm ?? ''}\u0000${e.container_id ?? ''}\u0000${this.foreignNetns(e) ?? ''}\u0000${client}`;
  }

  private displayName(e: ImdsRequestEvent): string {
    const base = e.exe ? (e.exe.split('/').pop() ?? e.exe) : (e.comm ?? 'unknown');
    const who = e.pid === null && e.comm === null ? `${e.attribution === 'none' ? 'client' : 'unattributed'} ${e.src_ip}` : base;
    if (e.container_id) return `${who} (container ${e.container_id.slice(0, 12)})`;
    const netns = this.foreignNetns(e);
    return netns === null ? who : `${who} (netns ${netns})`;
  }

  add(e: ImdsRequestEvent): void {
    if (e.own) {
      this.ownRequests += 1;
      return;
    }
    const key = this.identity(e);
    const known = this.byIdentity.get(key);
    const s = known ?? emptySummary(this.displayName(e), e);
    if (known === undefined) this.byIdentity.set(key, s);
    s[e.kind] += 1;
    if (e.probe_cloud !== null && !s.probe_clouds.includes(e.probe_cloud)) s.probe_clouds.push(e.probe_cloud);
    if (e.kind !== 'foreign_probe' && (e.status === null || e.status >= 400)) s.errors += 1;
    if (e.kind === 'v1' && e.status === 401) s.v1_rejected += 1;
    if (e.hop_limit_exceeded) s.hop_limit_exceeded += 1;
    if (e.pid !== null && !s.pids.includes(e.pid)) {
      s.pid_count += 1;
      if (s.pids.length < MAX_PIDS) s.pids.push(e.pid);
    }
    if (e.container_pid !== null && !s.container_pids.includes(e.container_pid) && s.container_pids.length < MAX_PIDS) s.container_pids.push(e.container_pid);
    if (e.cmdline !== null && !this.cmdlineFromV1.has(s) && (s.cmdline === null || e.kind === 'v1')) {
      s.cmdline = e.cmdline;
      if (e.kind === 'v1') this.cmdlineFromV1.add(s);
    }
    if (e.time < s.first_seen) s.first_seen = e.time;
    if (e.time > s.last_seen) s.last_seen = e.time;
    s.verdict = verdictOf(s);
    if (known === undefined && this.byIdentity.size > this.maxProcesses) this.fold();
  }

  /** Identities kept apart now (buckets included): at most the cap. */
  get size(): number {
    return this.byIdentity.size;
  }

  /** Folds identities into buckets (in fold-plan.ts's order: what loses least first) until the table is under its cap again. */
  private fold(): void {
    for (let round = 0; round < 3 && this.byIdentity.size > this.maxProcesses; round += 1) {
      const candidates: FoldCandidate[] = [];
      for (const [key, s] of this.byIdentity) {
        // A summary with `folded` is a bucket: `other` under its own key, else a program's.
        const bucket = s.folded === undefined ? null : key === OTHER_KEY ? 'other' : 'program';
        candidates.push({
          key,
          lastSeen: s.last_seen,
          evidence: s.v1 > 0 || s.hop_limit_exceeded > 0,
          programKey: s.container_id === null ? null : `\u0001program\u0000${s.exe ?? ''}\u0000${s.comm ?? ''}`,
          bucket,
        });
      }
      for (const [key, target] of planFolds(candidates, this.maxProcesses)) {
        const s = this.byIdentity.get(key);
        if (s === undefined) continue;
        this.byIdentity.delete(key);
        this.cmdlineFromV1.delete(s);
        const intoKey = target.into === 'other' ? OTHER_KEY : target.key;
        let into = this.byIdentity.get(intoKey);
        if (into === undefined) {
          const base = s.exe ? (s.exe.split('/').pop() ?? s.exe) : (s.comm ?? 'unknown');
          into = target.into === 'other'
            ? { ...emptySummary(OTHER_PROCESS, null), first_seen: s.first_seen, last_seen: s.last_seen }
            : { ...emptySummary(`${base} (containers)`, null), comm: s.comm, exe: s.exe, first_seen: s.first_seen, last_seen: s.last_seen };
          into.folded = 0;
          this.byIdentity.set(intoKey, into);
        }
        mergeSummary(into, s);
      }
    }
  }

  /** Summaries, IMDSv1 users first, then by request count. */
  processes(): ProcessSummary[] {
    return [...this.byIdentity.values()].sort(
      (a, b) => Number(b.v1 > 0) - Number(a.v1 > 0) || total(b) - total(a) || a.name.localeCompare(b.name),
    );
  }

  verdict(): Verdict {
    const processes = this.processes();
    const v1 = processes.filter((p) => p.v1 > 0).map((p) => p.name);
    const hop = processes.filter((p) => p.hop_limit_exceeded > 0).map((p) => p.name);
    const foreign = processes.filter((p) => p.foreign_probe > 0).map((p) => p.name);
    const fixes: string[] = [];
    if (v1.length > 0) {
      fixes.push(`Update or reconfigure to use IMDSv2 (token PUT first): ${v1.join(', ')}`);
    }
    if (hop.length > 0) {
      fixes.push(
        `Raise HttpPutResponseHopLimit to 2 (aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2): token answers to ${hop.join(', ')} were lost at the container hop`,
      );
    }
    const problems: string[] = [];
    if (v1.length > 0) problems.push(`${v1.length} process${v1.length === 1 ? '' : 'es'} still use${v1.length === 1 ? 's' : ''} IMDSv1: ${v1.join(', ')}`);
    // A client whose token answers die at the hop cannot use IMDSv2 yet: requiring it leaves that client with nothing.
    if (hop.length > 0) problems.push(`IMDSv2 token answers are lost at the container hop for: ${hop.join(', ')}`);
    const message =
      problems.length > 0
        ? `not safe to require IMDSv2: ${problems.join('; ')}`
        : processes.length === 0
          ? 'safe to require IMDSv2: no IMDS call was seen (observe longer, across a restart, to be sure)'
          : 'safe to require IMDSv2: no process used IMDSv1';
    // A probe for another cloud gets 404 from AWS today and 401 once tokens are required: nothing changes for it.
    const foreignNote = foreign.length > 0 ? ` (probes for other clouds' metadata by ${foreign.join(', ')} are not IMDSv1 calls: AWS answers them 404, 401 once tokens are required)` : '';
    return { safe_to_require_imdsv2: problems.length === 0, message: `${message}${foreignNote}`, v1_processes: v1, hop_limit_processes: hop, foreign_probe_processes: foreign, fixes };
  }
}

function emptySummary(name: string, e: ImdsRequestEvent | null): ProcessSummary {
  return {
    name,
    comm: e?.comm ?? null,
    exe: e?.exe ?? null,
    container_id: e?.container_id ?? null,
    user: e?.user ?? null,
    pids: [],
    pid_count: 0,
    container_pids: [],
    cmdline: e?.cmdline ?? null,
    v1: 0,
    v2_token: 0,
    v2_get: 0,
    foreign_probe: 0,
    probe_clouds: [],
    other: 0,
    errors: 0,
    v1_rejected: 0,
    hop_limit_exceeded: 0,
    first_seen: e?.time ?? '',
    last_seen: e?.time ?? '',
    verdict: 'other',
  };
}

function verdictOf(s: ProcessSummary): ProcessSummary['verdict'] {
  return s.v1 > 0 ? 'uses_imdsv1'
    : s.hop_limit_exceeded > 0 ? 'hop_limit_failure'
    : s.v2_token + s.v2_get > 0 ? 'imdsv2_only'
    : s.foreign_probe > 0 && s.other === 0 ? 'foreign_probe_only'
    : 'other';
}

/** Adds `from`'s counts and times to the bucket `into`; an IMDSv1 caller's command line is kept over any other. */
function mergeSummary(into: ProcessSummary, from: ProcessSummary): void {
  for (const k of ['v1', 'v2_token', 'v2_get', 'foreign_probe', 'other', 'errors', 'v1_rejected', 'hop_limit_exceeded', 'pid_count'] as const) into[k] += from[k];
  into.folded = (into.folded ?? 0) + (from.folded ?? 1);
  for (const pid of from.pids) if (into.pids.length < MAX_PIDS && !into.pids.includes(pid)) into.pids.push(pid);
  for (const pid of from.container_pids) if (into.container_pids.length < MAX_PIDS && !into.container_pids.includes(pid)) into.container_pids.push(pid);
  for (const cloud of from.probe_clouds) if (!into.probe_clouds.includes(cloud)) into.probe_clouds.push(cloud);
  if (from.cmdline !== null && (into.cmdline === null || (from.v1 > 0 && into.verdict !== 'uses_imdsv1'))) into.cmdline = from.cmdline;
  if (into.user !== from.user) into.user = into.pid_count === from.pid_count ? from.user : null;
  if (from.first_seen < into.first_seen) into.first_seen = from.first_seen;
  if (from.last_seen > into.last_seen) into.last_seen = from.last_seen;
  into.verdict = verdictOf(into);
}

function total(s: ProcessSummary): number {
  return s.v1 + s.v2_token + s.v2_get + s.foreign_probe + s.other;
}
