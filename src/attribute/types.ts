// Types shared by the attribution stage: who owns a socket, and how it was found.

/** How a connection's owner was found, or why it was not. */
export type AttributionMethod =
  /** sock:inet_sock_set_state tracepoint: pid/comm seen in the connecting process's own context. */
  | 'tracefs'
  /** /proc/net/tcp{,6} + /proc/<pid>/fd scan: only works while the socket is still open. */
  | 'procfs'
  /** The process was identified (pid/comm) but had exited before /proc could be read. */
  | 'exited'
  /** No owner could be found: nothing is guessed. */
  | 'unknown'
  /** Offline analysis (--read): no attribution is attempted. */
  | 'none';

export interface Ancestor {
  pid: number;
  comm: string;
}

/** The calling process as found in /proc. Every field is null when unknown: never guessed. */
export interface ProcessInfo {
  pid: number | null;
  ppid: number | null;
  comm: string | null;
  exe: string | null;
  /** argv as read, not redacted: redaction happens where events are built. */
  cmdline: string[] | null;
  uid: number | null;
  user: string | null;
  /** Parent, grandparent … up to pid 1. */
  ancestors: Ancestor[];
  /** Inode of the process's network namespace (/proc/<pid>/ns/net). */
  netns: number | null;
  cgroup: string | null;
  /** Docker / containerd / Kubernetes container id (64 hex) when the cgroup names one. */
  containerId: string | null;
  /** The pid inside the process's own pid namespace (innermost NSpid); null when it is the host's or unknown. */
  nsPid: number | null;
  attribution: AttributionMethod;
}

/** The client side of a connection as the client's own socket sees it (before NAT). */
export interface SocketKey {
  family: 4 | 6;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
}

/** What the pipeline knows about the connection it asks about. */
export interface LookupHint {
  /** The connection was already open when the capture started (its SYN was never seen). */
  midStream: boolean;
  /**
   * How long before the question its first packet was captured (ms). A capture that lags
   * (a starved host) asks late, and a connection that closed meanwhile still answers for it.
   */
  capturedAgoMs?: number;
}

/** Finds the process that owns a client socket. One implementation per method. */
export interface SocketOwnerFinder {
  readonly method: 'tracefs' | 'procfs';
  /** Begin watching (tracefs) or prepare (procfs). Throws if the method is unavailable. */
  start(): Promise<void>;
  /**
   * Called as soon as the client's SYN is captured. Resolves with the owner, or with
   * `attribution: 'unknown'` after at most `timeoutMs`.
   */
  find(key: SocketKey, timeoutMs: number, hint?: LookupHint): Promise<ProcessInfo>;
  /** Why the method stopped working during the run, or null while it works. */
  readonly failure?: string | null;
  /**
   * Whether the method may have missed connections lately (trace events lost). When it
   * cannot have, a connection it did not find is not worth a costly /proc scan.
   */
  missedRecently?(): boolean;
  /** What the method's own reading saw (trace events read and lost, lookups timed out), for the summary. */
  counters?(): AttributionCounters | undefined;
  /** Stop watching and release kernel resources (tracefs instance). Safe to call twice. */
  close(): Promise<void>;
}

/** The tracefs reader's health over a run: events it lost make an `unknown` explainable. */
export interface AttributionCounters {
  trace_events: number;
  trace_lost_events: number;
  connects_traced: number;
  lookups_timed_out: number;
  /** Ring-buffer readers started again after a read of 0 bytes on a live instance. */
  trace_reader_restarts: number;
}

/** A ProcessInfo with nothing known. */
export function unknownProcess(): ProcessInfo {
  return {
    pid: null,
    ppid: null,
    comm: null,
    exe: null,
    cmdline: null,
    uid: null,
    user: null,
    ancestors: [],
    netns: null,
    cgroup: null,
    containerId: null,
    nsPid: null,
    attribution: 'unknown',
  };
}
