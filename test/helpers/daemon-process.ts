// Test helper: the built `imds-sniff daemon` in a testbed namespace, its pino status lines parsed from stderr.

import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { resolveAgentScript } from '../../src/testbed/agent-process.js';
import { spawnInNetns } from '../../src/testbed/netns.js';

export interface StatusLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export class DaemonProcess {
  readonly lines: StatusLine[] = [];
  raw = '';
  private waiters: Array<() => void> = [];
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.raw += `${line}\n`;
      try {
        this.lines.push(JSON.parse(line) as StatusLine);
      } catch {
        /* not a status line */
      }
      this.wake();
    });
    child.stdout!.resume();
    this.exited = new Promise((resolve) => child.on('exit', (code) => {
      this.wake();
      resolve(code);
    }));
  }

  /** Starts the daemon and resolves when it logs "capturing". */
  static async start(ns: string, args: string[], env: NodeJS.ProcessEnv): Promise<DaemonProcess> {
    const child = spawnInNetns(ns, [process.execPath, resolveAgentScript(), 'daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const daemon = new DaemonProcess(child);
    try {
      await daemon.waitFor((l) => l.msg === 'capturing', 20_000, 'the daemon to start capturing');
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return daemon;
  }

  /** Resolves when a status line matches; rejects at the timeout or when the daemon exits first. */
  waitFor(match: (line: StatusLine) => boolean, timeoutMs: number, what: string): Promise<StatusLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}:\n${this.raw.slice(-3000)}`)), timeoutMs);
      const check = (): void => {
        const found = this.lines.find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`the daemon exited while waiting for ${what}:\n${this.raw.slice(-3000)}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
