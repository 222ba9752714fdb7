// The tracepoint events the tracefs finder uses, whichever reader decoded them.

/** Who and when, common to every event. */
export interface TraceContext {
  /** Thread name; null when the reader does not carry it (raw records have none). */
  comm: string | null;
  /** common_pid: the THREAD id. */
  tid: number;
  /** Process id when the reader knows it; null otherwise (/proc/<tid>/status names it). */
  tgid: number | null;
  cpu: number;
  /** Trace clock seconds. */
  timestamp: number;
}

/** sock:inet_sock_set_state. */
export interface SockStateEvent extends TraceContext {
  kind: 'sock-state';
  /** Kernel address of the struct sock: one connection for its lifetime (reused after close). */
  skaddr: string;
  oldState: number;
  newState: number;
  /** 0 until the port is bound, i.e. still 0 on the CLOSE → SYN_SENT transition. */
  sport: number;
  dport: number;
  family: 4 | 6;
  protocol: number | null;
  /** Source and destination in canonical text (IPv6 from the v6 fields); null when not known. */
  saddr: string | null;
  daddr: string | null;
}

/** sched:sched_process_exec: the binary a process ran, even if it dies before /proc can be read. */
export interface ExecEvent extends TraceContext {
  kind: 'exec';
  filename: string;
  /** The process id after exec (a multi-threaded exec makes the caller the group leader). */
  pid: number;
  oldPid: number;
}

/** sched:sched_process_fork: who created a task (parent and child as task ids). */
export interface ForkEvent extends TraceContext {
  kind: 'fork';
  parentComm: string;
  parentPid: number;
  childComm: string;
  childPid: number;
}

/** cgroup:cgroup_attach_task: a task moved into a cgroup (how runtimes put a container's first process in place). */
export interface CgroupAttachEvent extends TraceContext {
  kind: 'cgroup-attach';
  /** Hierarchy id: 0 is the unified (v2) hierarchy. */
  root: number;
  path: string;
  /** The task moved (a thread id; a whole process moves thread by thread). */
  pid: number;
}

/** The ring buffer overflowed before it was read: `count` events are gone (-1: unknown how many). */
export interface LostEvents {
  kind: 'lost';
  cpu: number;
  count: number;
  /** Kernel time of the page that reported the loss. */
  timestamp?: number;
}

/** A write to the instance's trace_marker, known by its writer. */
export interface MarkEvent {
  kind: 'mark';
  tid: number;
  timestamp?: number;
}

/** Every event kind the tracefs finder uses. */
export type TraceEvent = SockStateEvent | ExecEvent | ForkEvent | CgroupAttachEvent | LostEvents | MarkEvent;

/** Where events come from: a TracefsInstance, or recorded ring-buffer pages in tests. */
export interface TraceEventSource {
  readonly notes: string[];
  /** Set when the stream died during the run. */
  readonly failure: string | null;
  /** Delivers events in the batches they were read in; each batch is in one CPU's order. */
  stream(onEvents: (events: TraceEvent[]) => void): void;
  /** Writes to the instance's trace_marker; its event arrives after every event before it on that CPU. */
  mark?(): void;
  /** Readers started again after a read of 0 bytes (a live source only). */
  readonly readerRestarts?: number;
  /** The CPUs read, once the readers run. */
  readonly cpus?: readonly number[];
  /** Events committed to `cpu`'s ring buffer that have not been delivered yet; null when unknown. */
  pendingEvents?(cpu: number): number | null;
  /** Kernel trace-clock time now, in seconds, when the trace clock is one this process can read. */
  now?(): number | null;
  close(): Promise<void>;
}
