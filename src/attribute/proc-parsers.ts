// Pure parsers for the /proc/<pid>/ files that attribution reads (stat, status, cmdline, ns, cgroup).

/** The fields of /proc/<pid>/stat that attribution uses. */
export interface ProcStat {
  pid: number;
  /** The main thread's name (TASK_COMM_LEN: at most 15 bytes). */
  comm: string;
  /** R, S, D, Z (zombie: exited but not yet reaped) … */
  state: string;
  ppid: number;
  /** Clock ticks after boot: with pid, identifies one process across pid reuse. */
  startTime: number;
}

/**
 * Parses /proc/<pid>/stat. comm sits in parentheses and may itself hold ')', '(' and
 * spaces, so the fields after it are read from the LAST ')'.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || pid <= 0 || !state || !Number.isInteger(ppid)) return null;
  return {
    pid,
    comm: text.slice(open + 1, close),
    state,
    ppid,
    startTime: Number.isFinite(startTime) ? startTime : -1,
  };
}

/** The fields of /proc/<pid>/status that attribution uses. */
export interface ProcStatus {
  name: string | null;
  /**
   * Process id (thread group id) of this task; differs from the task id for threads. Null
   * for `Tgid: 0`, what a task caught half-way through its exit (already unhashed) shows.
   */
  tgid: number | null;
  ppid: number | null;
  /** Real uid (the first of the four Uid: columns). */
  uid: number | null;
  /**
   * NSpid: the process's pid in each pid namespace it belongs to, the reader's first, its own
   * innermost last (one entry outside containers); null when the line is missing (before 4.1).
   */
  nsPids: number[] | null;
}

/** A process id, or null for 0 and below (no process: see ProcStatus.tgid). */
function positive(n: number | null): number | null {
  return n !== null && n > 0 ? n : null;
}

/** Parses /proc/<pid>/status (`Key:\tvalue` lines). */
export function parseStatus(text: string): ProcStatus {
  const out: ProcStatus = { name: null, tgid: null, ppid: null, uid: null, nsPids: null };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^\s+/, '');
    const firstInt = (): number | null => {
      const n = Number(value.split(/\s+/)[0]);
      return Number.isInteger(n) ? n : null;
    };
    if (key === 'Name') out.name = value;
    else if (key === 'Tgid') out.tgid = positive(firstInt());
    else if (key === 'PPid') out.ppid = firstInt();
    else if (key === 'Uid') out.uid = firstInt();
    else if (key === 'NSpid') {
      const pids = value.trim().split(/\s+/).map(Number);
      out.nsPids = pids.length > 0 && pids.every((n) => Number.isInteger(n) && n > 0) ? pids : null;
    }
  }
  return out;
}

/**
 * The pid inside the process's own (innermost) pid namespace, from NSpid: null when the
 * process shares the reader's pid namespace (one entry) or NSpid is unknown.
 */
export function innermostNsPid(status: ProcStatus | null): number | null {
  const pids = status?.nsPids;
  return pids && pids.length > 1 ? (pids[pids.length - 1] ?? null) : null;
}

/**
 * Splits /proc/<pid>/cmdline on NUL and drops the trailing empty string. Returns null when
 * empty: kernel threads and zombies have no command line, which is "unknown", not "no args".
 */
export function parseCmdline(text: string): string[] | null {
  if (text === '') return null;
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.length > 0 ? parts : null;
}

/** `net:[4026531840]` (readlink of /proc/<pid>/ns/net) → 4026531840. */
export function parseNsLink(link: string): number | null {
  const m = /^[a-z_]+:\[(\d+)\]$/.exec(link.trim());
  return m ? Number(m[1]) : null;
}

/** /proc/<pid>/exe target without the " (deleted)" suffix the kernel adds for unlinked binaries. */
export function stripDeleted(link: string): string {
  return link.endsWith(' (deleted)') ? link.slice(0, -' (deleted)'.length) : link;
}

/** One line of /proc/<pid>/cgroup: `hierarchy-id:controller-list:path`. */
export interface CgroupEntry {
  /** 0 for the cgroup v2 unified hierarchy. */
  hierarchyId: number;
  /** Empty for v2; `name=systemd` style names are kept as they are. */
  controllers: string[];
  path: string;
}

/** Parses /proc/<pid>/cgroup, v2 (`0::/path`) and v1 lines alike. Bad lines are skipped. */
export function parseCgroup(text: string): CgroupEntry[] {
  const entries: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const hierarchyId = Number(line.slice(0, first));
    if (!Number.isInteger(hierarchyId)) continue;
    const controllers = line.slice(first + 1, second);
    entries.push({
      hierarchyId,
      controllers: controllers === '' ? [] : controllers.split(','),
      path: line.slice(second + 1),
    });
  }
  return entries;
}
