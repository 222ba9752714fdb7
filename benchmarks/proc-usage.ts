// Benchmark side: CPU and memory of a process and everything it started, from /proc.

import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux. */
export const CLOCK_TICKS_PER_SECOND = 100;

function ownTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime, and cutime + cstime: children it has reaped count too.
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  } catch {
    return 0;
  }
}

/** The live children of `pid` (every thread's). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (c) children.push(Number(c));
    }
  } catch {
    /* gone */
  }
  return children;
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(processTree)];
}

/** CPU ticks of `pid` and every process it started (the agent's trace readers, tshark's dumpcap). */
export function treeCpuTicks(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + ownTicks(p), 0);
}

/** Peak resident memory (VmHWM) of one process in MiB, NaN when gone. */
export function peakRssMib(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
  } catch {
    return NaN;
  }
}

/** The sum of the peaks of `pid` and its live descendants, in MiB (an upper bound on the tree's peak). */
export function treePeakRssMib(pid: number): number {
  return Math.round(processTree(pid).reduce((sum, p) => sum + (peakRssMib(p) || 0), 0) * 10) / 10;
}
