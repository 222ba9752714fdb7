// testbed/: runs the imds-sniff agent as a child inside a testbed namespace and reads its JSON events.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { TestbedError } from '../errors.js';
import type { ImdsRequestEvent } from '../contract/imds-request-event.js';
import type { OutputEvent, StartEvent, SummaryEvent } from '../contract/output-events.js';
import { spawnInNetns } from './netns.js';
import { scaledMs } from './time-scale.js';

/** Path of the compiled CLI entry (dist/src/main.js), from dist or from the sources under vitest. */
export function resolveAgentScript(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/src/main.js', import.meta.url))
    : fileURLToPath(new URL('../main.js', import.meta.url));
  if (!existsSync(script)) throw new TestbedError(`imds-sniff entry not found at ${script}`, { hint: 'run `npm run build` first' });
  return script;
}

export interface AgentExit {
  code: number | null;
  summary: SummaryEvent | null;
  stderr: string;
}

/**
 * The agent running with `--format json` in a namespace. Every stdout line is
 * parsed; waiters are woken by events, never by timers alone.
 */
export class AgentProcess {
  readonly events: OutputEvent[] = [];
  stderr = '';
  private waiters: Array<() => void> = [];
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as OutputEvent);
      } catch {
        this.stderr += `unparsed stdout: ${line}\n`;
      }
      this.wake();
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        // stdout may still hold lines: resolve after readline has drained it.
        lines.once('close', () => {
          this.wake();
          resolve(code);
        });
        if (child.stdout!.readableEnded) {
          this.wake();
          resolve(code);
        }
      });
    });
  }

  /**
   * Starts the agent in namespace `ns` and resolves once it printed its `start` line (capture open).
   * `nodeArgs` go to node (e.g. --cpu-prof); `wrapper` runs before it and execs it (e.g. setpriv
   * with fewer capabilities).
   */
  static async start(ns: string, args: readonly string[], timeoutMs = scaledMs(20_000), nodeArgs: readonly string[] = [], wrapper: readonly string[] = []): Promise<AgentProcess> {
    // Where the testbed runs slowly (time-scale.ts), so does the agent: its default 500 ms wait for
    // a connection's owner is stretched the same way unless the caller chose one.
    const slow = scaledMs(500) > 500 && !args.includes('--attribution-timeout');
    const timing = slow ? ['--attribution-timeout', `${Math.min(scaledMs(500), 10_000)}ms`] : [];
    const child = spawnInNetns(ns, [...wrapper, process.execPath, ...nodeArgs, resolveAgentScript(), '--format', 'json', ...timing, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A lookup that finds nothing says on stderr what the trace index held: tests print it beside a miss.
      env: { ...process.env, IMDS_SNIFF_DEBUG_ATTRIBUTION: process.env.IMDS_SNIFF_DEBUG_ATTRIBUTION ?? '1' },
    });
    const agent = new AgentProcess(child);
    try {
      // With --output the start line goes to the file; the agent then says so on stderr.
      await agent.waitFor(
        (events) => events.some((e) => e.event === 'start') || agent.stderr.includes('imds-sniff: capturing on'),
        timeoutMs,
        'the agent to start',
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return agent;
  }

  get startEvent(): StartEvent | undefined {
    return this.events.find((e): e is StartEvent => e.event === 'start');
  }

  get requests(): ImdsRequestEvent[] {
    return this.events.filter((e): e is ImdsRequestEvent => e.event === 'imds_request');
  }

  /** Resolves when `predicate` holds over the events so far; rejects at the timeout or if the agent exits first. */
  waitFor(predicate: (events: OutputEvent[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = (): void => {
        if (done) return;
        if (predicate(this.events)) {
          done = true;
          clearTimeout(timer);
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done = true;
          clearTimeout(timer);
          reject(new TestbedError(`the agent exited (code ${this.child.exitCode}) while waiting for ${what}: ${this.stderr.trim().split('\n').pop() ?? ''}`));
        } else {
          this.waiters.push(check);
        }
      };
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        reject(new TestbedError(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.events.length} events so far; requests: ${this.describeRequests()}`));
      }, timeoutMs);
      check();
    });
  }

  /** The agent's attribution-debug lines (lookups that found nothing), first few. */
  attributionDebug(max = 3): string[] {
    return this.stderr.split('\n').filter((l) => l.includes('attribution-debug')).slice(0, max);
  }

  /** The request events so far, in brief (who, how attributed, from where): what a failed wait shows. */
  describeRequests(): string {
    const brief = this.requests.map((e) => `${e.kind} pid=${e.pid ?? '-'} comm=${e.comm ?? '-'} attribution=${e.attribution} src=${e.src_ip}:${e.src_port}`);
    return brief.length === 0 ? 'none' : brief.slice(0, 10).join('; ') + (brief.length > 10 ? `; … ${brief.length - 10} more` : '');
  }

  /** Waits for `count` request events matching `filter`. */
  waitForRequests(count: number, timeoutMs: number, filter: (e: ImdsRequestEvent) => boolean = () => true): Promise<void> {
    return this.waitFor(
      (events) => events.filter((e) => e.event === 'imds_request' && filter(e)).length >= count,
      timeoutMs,
      `${count} request events`,
    );
  }

  /**
   * Sends `signal` (or none, to wait for an agent that stops by itself, e.g. at the end
   * of --duration), then resolves with the exit code and the summary; SIGKILL if it
   * does not exit within `timeoutMs`.
   */
  async stop(timeoutMs = scaledMs(15_000), signal: 'SIGINT' | 'SIGTERM' | 'none' = 'SIGINT'): Promise<AgentExit> {
    if (signal !== 'none' && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    const summary = this.events.find((e): e is SummaryEvent => e.event === 'summary') ?? null;
    return { code, summary, stderr: this.stderr };
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
