// Parent side of the mock IMDS: spawns mock-imds-main.js (optionally inside a netns) and waits for its ready line.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestbedError } from '../errors.js';
import { MockImdsControl } from './mock-imds-control.js';
import type { MockImdsOptionsPatch } from './mock-imds-options.js';
import type { MockImdsReadyLine } from './mock-imds-process.js';
import { scaledMs } from './time-scale.js';

/** Options for launchMockImds. */
export interface LaunchMockImdsOptions {
  /** Network namespace to run in (via `ip netns exec`); null runs in the caller's. */
  netns: string | null;
  /** Unix socket path for the control channel. */
  controlPath: string;
  /** Options applied (hop-limit rules included) before launchMockImds resolves. */
  options?: MockImdsOptionsPatch;
  /** Compiled entry script; default resolveMockImdsScript(). */
  script?: string;
  /** host:port listeners; default the IMDS addresses on port 80. */
  listen?: string[];
  /** false skips the hop-limit nft rules (only sensible outside a namespace). Default true. */
  nft?: boolean;
  /** Give up when no ready line arrives within this long. Default 20 s. */
  readyTimeoutMs?: number;
}

/** A running mock child. */
export interface LaunchedMockImds {
  child: ChildProcess;
  control: MockImdsControl;
  ready: MockImdsReadyLine;
  /** SIGTERM, then SIGKILL if it has not exited after 5 s; resolves on exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Path of the compiled mock-imds-main.js. From dist it is this module's sibling; from
 * the TypeScript sources (vitest) it is the same file under <repo>/dist, so a build must
 * have run. Throws TestbedError when the file is missing.
 */
export function resolveMockImdsScript(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/src/testbed/mock-imds-main.js', import.meta.url))
    : fileURLToPath(new URL('./mock-imds-main.js', import.meta.url));
  if (!existsSync(script)) {
    throw new TestbedError(`mock IMDS script not found at ${script}`, { hint: 'run `npm run build` first' });
  }
  return script;
}

/** Spawns the mock and resolves once it is listening and the options are applied. Throws TestbedError. */
export async function launchMockImds(options: LaunchMockImdsOptions): Promise<LaunchedMockImds> {
  const script = options.script ?? resolveMockImdsScript();
  if (!existsSync(script)) throw new TestbedError(`mock IMDS script not found at ${script}`, { hint: 'run `npm run build` first' });
  const args = [script, '--control', options.controlPath];
  for (const address of options.listen ?? []) args.push('--listen', address);
  if (options.nft === false) args.push('--no-nft');
  const argv = options.netns === null ? [process.execPath, ...args] : ['ip', 'netns', 'exec', options.netns, process.execPath, ...args];
  // stdin stays an open pipe: the mock exits when it closes, i.e. when this process dies.
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const guard = setTimeout(() => child.kill('SIGKILL'), scaledMs(5_000));
    await exited;
    clearTimeout(guard);
  };
  try {
    const ready = await waitForReady(child, options.readyTimeoutMs ?? scaledMs(20_000));
    const control = new MockImdsControl(options.controlPath);
    if (options.options !== undefined && Object.keys(options.options).length > 0) await control.setOptions(options.options);
    return { child, control, ready, stop };
  } catch (error) {
    await stop();
    if (error instanceof TestbedError) throw error;
    throw new TestbedError(`mock IMDS did not start: ${String(error)}`, { cause: error });
  }
}

/** Resolves with the first stdout line that is a ready line; rejects if the child exits or times out first. */
function waitForReady(child: ChildProcess, timeoutMs: number): Promise<MockImdsReadyLine> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-2_000);
    });
    const lines = createInterface({ input: child.stdout! });
    const done = (): void => {
      clearTimeout(timer);
      lines.close();
      // Keep draining stdout so a chatty child can never block on a full pipe.
      child.stdout?.resume();
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      done();
      // Our own failures say "mock-imds: …"; Node's own (a bad module) name an Error; else the last line.
      const stderrLines = stderr.trim().split('\n');
      const why = stderrLines.find((l) => l.startsWith('mock-imds:')) ?? stderrLines.find((l) => /\bError\b/.test(l)) ?? stderrLines.pop() ?? '';
      reject(new TestbedError(`mock IMDS exited before ready (${signal ?? `code ${String(code)}`})${why === '' ? '' : `: ${why}`}`));
    };
    const onError = (cause: Error): void => {
      done();
      reject(new TestbedError(`cannot start mock IMDS: ${cause.message}`, { cause }));
    };
    const timer = setTimeout(() => {
      done();
      reject(new TestbedError(`mock IMDS not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', onExit);
    child.once('error', onError);
    lines.on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if ((parsed as Partial<MockImdsReadyLine> | null)?.ready !== true) return;
      done();
      resolve(parsed as MockImdsReadyLine);
    });
  });
}
