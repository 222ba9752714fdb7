// Network-namespace helpers over `ip netns`: create, list, run inside, kill everything inside, delete.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { TestbedError } from '../errors.js';
import { firstLine, runCommand, type CommandResult, type RunCommandOptions } from './run-command.js';

/** Runs `ip <args>` and throws TestbedError with the command and ip's message when it fails. */
export async function ip(args: readonly string[]): Promise<void> {
  await mustSucceed(['ip', ...args]);
}

/** Runs argv and throws TestbedError when it cannot start or exits non-zero. */
export async function mustSucceed(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  let result: CommandResult;
  try {
    result = await runCommand(argv, { timeoutMs: 30_000, ...options });
  } catch (cause) {
    throw new TestbedError(`${argv[0] ?? '?'} not found`, { cause });
  }
  if (result.code !== 0) throw new TestbedError(`\`${argv.join(' ')}\` failed: ${firstLine(result)}`);
  return result;
}

/** Runs argv inside namespace `ns` and resolves with its result whatever the exit code. */
export function execInNetns(ns: string, argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return runCommand(['ip', 'netns', 'exec', ns, ...argv], options);
}

/**
 * Starts argv inside namespace `ns`. `ip netns exec` execs the command in place, so the
 * returned ChildProcess pid is the command's own pid (what attribution should report).
 */
export function spawnInNetns(ns: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], options);
}

/** Names of all named network namespaces (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const result = await mustSucceed(['ip', 'netns', 'list']);
  // Lines look like "name (id: 3)" or just "name".
  return result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

/** Pids of processes in namespace `ns`; empty when it does not exist. */
export async function netnsPids(ns: string): Promise<number[]> {
  const result = await runCommand(['ip', 'netns', 'pids', ns], { timeoutMs: 10_000 });
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/**
 * SIGKILLs every process in namespace `ns` and waits until they are gone (or zombies),
 * for at most waitMs. Only testbed namespaces are passed here, so only processes the
 * testbed started are touched.
 */
export async function killNetnsProcesses(ns: string, waitMs = 3_000): Promise<void> {
  const pids = (await netnsPids(ns)).filter((pid) => pid !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + waitMs;
  for (const pid of pids) {
    while ((await isAlive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}

/** True while /proc/<pid> exists and is not a zombie. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised comm (which may hold spaces), is the state.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Deletes namespace `ns`; a namespace that does not exist is not an error. */
export async function deleteNetns(ns: string): Promise<void> {
  const result = await runCommand(['ip', 'netns', 'del', ns], { timeoutMs: 10_000 });
  if (result.code === 0) return;
  if (!(await listNetns()).includes(ns)) return;
  throw new TestbedError(`cannot delete network namespace ${ns}: ${firstLine(result)}`);
}

/**
 * Waits until `dev` in `ns` reports operstate UP (the carrier change has been processed),
 * checking every 10 ms; throws TestbedError after timeoutMs. The kernel offers no simple
 * event for this short of a netlink monitor, so this is a bounded poll on a condition.
 */
export async function waitForOperstateUp(ns: string, dev: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await runCommand(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev], { timeoutMs: 10_000 });
    const state = result.code === 0 ? (JSON.parse(result.stdout) as { operstate?: string }[])[0]?.operstate : undefined;
    if (state === 'UP') return;
    if (Date.now() >= deadline) throw new TestbedError(`${dev} in ${ns} is not up after ${timeoutMs} ms (operstate ${state ?? '?'})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
