// Test helper: runs the built CLI (dist/src/main.js) as an operator would, and checks its one-line errors.

import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { resolveAgentScript } from '../../src/testbed/agent-process.js';

export const MAIN = resolveAgentScript();

export interface CliResult {
  code: number | null;
  /** The signal that ended it (the timeout kills with SIGTERM), or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run, ms. */
  ms: number;
}

/**
 * Runs the CLI. `netns` runs it inside a testbed namespace: anything that may
 * talk to 169.254.169.254 (doctor, live capture) must, so it reaches the mock
 * and never this machine's own metadata service.
 */
export function runCli(args: string[], opts: { asNobody?: boolean; capNetRaw?: boolean; netns?: string; timeoutMs?: number } = {}): CliResult {
  let argv = [process.execPath, MAIN, ...args];
  // nobody without any capability, or (capNetRaw) with just what a capture needs, as a hardened unit grants it.
  const caps = opts.capNetRaw ? ['--inh-caps=-all,+net_raw,+net_admin', '--ambient-caps=+net_raw,+net_admin'] : ['--inh-caps=-all'];
  if (opts.asNobody) argv = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...caps, ...argv];
  if (opts.netns) argv = ['ip', 'netns', 'exec', opts.netns, ...argv];
  const started = Date.now();
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/** One error line (plus a hint), no stack trace. */
export function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
}

/** Runs the CLI without blocking this process (for servers the test itself runs, such as an emulator). */
export function runCliAsync(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return runArgv([process.execPath, MAIN, ...args], opts.env, opts.timeoutMs);
}

/** Runs any argv without blocking this process; its output collected. */
export function runArgv(argv: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started });
    });
  });
}
