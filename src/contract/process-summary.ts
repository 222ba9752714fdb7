// contract/: the per-process summary and the IMDSv2 readiness verdict of a summary event.

import type { ProbeCloud } from '../classify/foreign-probe.js';

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
  /** A bucket only: how many identities were folded into it (the run saw more than the summary keeps apart). */
  folded?: number;
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
