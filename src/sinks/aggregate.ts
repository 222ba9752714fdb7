// sinks/: pure per-process aggregation of imds_request events and the IMDSv2 readiness verdict.

import type { ProbeCloud } from '../classify/foreign-probe.js';
import type { ImdsRequestEvent } from '../pipeline/events.js';

/** Counts for one process identity (same executable, comm and container; any pid). */
export interface ProcessSummary {
  /** Stable name: exe basename, else comm, else "unknown". */
  name: string;
  comm: string | null;
  exe: string | null;
  container_id: string | null;
  user: string | null;
  /** Up to 10 distinct pids seen, and how many there were. */
  pids: number[];
  pid_count: number;
  /** Up to 10 distinct in-container pids (container_pid) seen: a container's own view of the callers. */
  container_pids: number[];
  /** A command line of one of its IMDSv1 calls when it made any, else of its first call. */
  cmdline: string[] | null;
  v1: number;
  v2_token: number;
  v2_get: number;
  /** Probes for another cloud's metadata paths (not IMDSv1: AWS answers them 404, 401 once tokens are required). */
  foreign_probe: number;
  /** The clouds those probes looked for, in the order first seen. */
  probe_clouds: ProbeCloud[];
  other: number;
  /** Requests answered 4xx/5xx or not answered at all; a foreign probe's expected 404 or 401 is not counted. */
  errors: number;
  /** IMDSv1 requests refused with 401 (the instance already requires tokens). */
  v1_rejected: number;
  hop_limit_exceeded: number;
  first_seen: string;
  last_seen: string;
  verdict: 'uses_imdsv1' | 'imdsv2_only' | 'hop_limit_failure' | 'foreign_probe_only' | 'other';
}

export interface Verdict {
  safe_to_require_imdsv2: boolean;
  message: string;
  v1_processes: string[];
  hop_limit_processes: string[];
  /** Processes that probed for another cloud's metadata service: named, never counted against the verdict. */
  foreign_probe_processes: string[];
  /** What to change, in order, for a person to act on. */
  fixes: string[];
}

const MAX_PIDS = 10;

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

  /** @param hostNetns inode of the agent's own network namespace, when known. */
  constructor(private readonly hostNetns: number | null = null) {}

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
    let s = this.byIdentity.get(key);
    if (!s) {
      s = {
        name: this.displayName(e),
        comm: e.comm,
        exe: e.exe,
        container_id: e.container_id,
        user: e.user,
        pids: [],
        pid_count: 0,
        container_pids: [],
        cmdline: e.cmdline,
        v1: 0,
        v2_token: 0,
        v2_get: 0,
        foreign_probe: 0,
        probe_clouds: [],
        other: 0,
        errors: 0,
        v1_rejected: 0,
        hop_limit_exceeded: 0,
        first_seen: e.time,
        last_seen: e.time,
        verdict: 'other',
      };
      this.byIdentity.set(key, s);
    }
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
    s.verdict =
      s.v1 > 0 ? 'uses_imdsv1'
      : s.hop_limit_exceeded > 0 ? 'hop_limit_failure'
      : s.v2_token + s.v2_get > 0 ? 'imdsv2_only'
      : s.foreign_probe > 0 && s.other === 0 ? 'foreign_probe_only'
      : 'other';
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

function total(s: ProcessSummary): number {
  return s.v1 + s.v2_token + s.v2_get + s.foreign_probe + s.other;
}
