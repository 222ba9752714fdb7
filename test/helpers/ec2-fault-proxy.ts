// Test helper: starts ec2-fault-proxy-main.js (optionally in a network namespace), reads its request log, changes its faults.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Ec2Faults, Ec2ProxyCommand, Ec2ProxyOutcome, Ec2ProxyReadyLine, Ec2ProxyRequest } from './ec2-faults.js';

export { EC2_DRY_RUN_OK, EC2_INTERNAL_ERROR, EC2_THROTTLED, EC2_UNAUTHORIZED, failNext } from './ec2-faults.js';
export type { Ec2ErrorAnswer, Ec2FailRule, Ec2Faults, Ec2ProxyOutcome, Ec2ProxyRequest } from './ec2-faults.js';

/** Options for Ec2FaultProxy.start. */
export interface Ec2FaultProxyOptions {
  /** Where calls go, e.g. moto.endpoint; as seen from `netns`. */
  target: string;
  /** Network namespace to run in (`ip netns exec`), e.g. a testbed's host namespace; default this one. */
  netns?: string;
  /** Fault settings from the start; default none (only the DryRun fix). */
  faults?: Ec2Faults;
  /** host:port to listen on; default 127.0.0.1:0 (a free port). '0.0.0.0:0' makes it reachable from the imds namespace too. */
  listen?: string;
  /** Compiled script; default resolveFaultProxyScript(). */
  script?: string;
  /** Give up when the proxy is not listening after this long. Default 10 s. */
  readyTimeoutMs?: number;
}

/** Call counts, for a quick assertion. */
export interface Ec2ProxyStats {
  total: number;
  byAction: Record<string, number>;
  byOutcome: Partial<Record<Ec2ProxyOutcome, number>>;
}

/**
 * Path of the compiled ec2-fault-proxy-main.js: from the TypeScript sources (vitest) the
 * same file under <repo>/dist, so `npm run build` must have run; from dist its sibling.
 */
export function resolveFaultProxyScript(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/test/helpers/ec2-fault-proxy-main.js', import.meta.url))
    : fileURLToPath(new URL('./ec2-fault-proxy-main.js', import.meta.url));
}

/**
 * An EC2 API proxy in front of moto for tests: forwards every call except a DryRun
 * ModifyInstanceMetadataOptions (answered DryRunOperation, which moto would carry out)
 * and the faults it is given (errors for the next N calls of an Action, MetadataOptions
 * State pending in DescribeInstances answers). Always stop() it (it also dies with the
 * test process).
 */
export class Ec2FaultProxy {
  private readonly log: Ec2ProxyRequest[] = [];
  private readonly acks = new Map<number, (line: { faults?: Ec2Faults; error?: string }) => void>();
  private readonly waiters = new Set<() => void>();
  private nextId = 1;
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Ec2ProxyReadyLine,
    /** Namespace it runs in, or null. */
    readonly netns: string | null,
  ) {}

  /** Spawns the proxy and resolves once it listens. */
  static async start(options: Ec2FaultProxyOptions): Promise<Ec2FaultProxy> {
    const script = options.script ?? resolveFaultProxyScript();
    if (!existsSync(script)) throw new Error(`EC2 fault proxy script not found at ${script}: run \`npm run build\` first`);
    const args = [script, '--target', options.target, '--listen', options.listen ?? '127.0.0.1:0', '--faults', JSON.stringify(options.faults ?? {})];
    // `ip netns exec` execs in place: the pid is node's. stdin stays open; the proxy exits when it closes.
    const argv = options.netns === undefined ? [process.execPath, ...args] : ['ip', 'netns', 'exec', options.netns, process.execPath, ...args];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    // A command written after the proxy died fails its ack; the pipe error itself is not news.
    child.stdin?.on('error', () => undefined);
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-2_000);
    });
    const lines = createInterface({ input: child.stdout! });
    let proxy: Ec2FaultProxy | undefined;
    return new Promise<Ec2FaultProxy>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`EC2 fault proxy not listening after ${options.readyTimeoutMs ?? 10_000} ms`)), options.readyTimeoutMs ?? 10_000);
      function fail(error: Error): void {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      }
      child.once('error', (error) => fail(new Error(`cannot start the EC2 fault proxy: ${error.message}`)));
      child.once('exit', (code, signal) => {
        if (proxy === undefined) fail(new Error(`EC2 fault proxy exited (${signal ?? `code ${String(code)}`}) before listening: ${stderr.trim()}`));
        else proxy.onExit();
      });
      lines.on('line', (line) => {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (proxy !== undefined) {
          proxy.onLine(parsed);
        } else if (parsed['ready'] === true) {
          clearTimeout(timer);
          proxy = new Ec2FaultProxy(child, parsed as unknown as Ec2ProxyReadyLine, options.netns ?? null);
          resolve(proxy);
        }
      });
    });
  }

  get port(): number {
    return this.ready.port;
  }

  /** Endpoint URL in the proxy's namespace (127.0.0.1 when it listens on a wildcard). */
  get endpoint(): string {
    const wildcard: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };
    return this.endpointAt(wildcard[this.ready.address] ?? this.ready.address);
  }

  /** Endpoint URL at another address of the proxy's namespace (e.g. the testbed host's 10.<block>.0.2). */
  endpointAt(address: string): string {
    return `http://${address.includes(':') ? `[${address}]` : address}:${this.port}`;
  }

  /**
   * The calls answered so far, oldest first. It first waits for the proxy to acknowledge
   * a barrier, so every call whose answer a client already has is included.
   */
  async requests(): Promise<Ec2ProxyRequest[]> {
    await this.command({});
    return this.log.map((r) => structuredClone(r));
  }

  /** The calls of one Action answered so far (see requests()). */
  async calls(action: string): Promise<Ec2ProxyRequest[]> {
    return (await this.requests()).filter((r) => r.action === action);
  }

  /** Counts of the calls answered so far. */
  async stats(): Promise<Ec2ProxyStats> {
    const stats: Ec2ProxyStats = { total: 0, byAction: {}, byOutcome: {} };
    for (const r of await this.requests()) {
      stats.total += 1;
      stats.byAction[r.action] = (stats.byAction[r.action] ?? 0) + 1;
      stats.byOutcome[r.outcome] = (stats.byOutcome[r.outcome] ?? 0) + 1;
    }
    return stats;
  }

  /** Forgets the request log kept here. */
  clearRequests(): void {
    this.log.length = 0;
  }

  /** Replaces every fault setting (remaining counts too); resolves with the settings in force. Rejects on a bad setting. */
  setFaults(faults: Ec2Faults): Promise<Ec2Faults> {
    return this.command({ setFaults: faults });
  }

  /**
   * Resolves with the request log once `condition` holds for it (checked on every new
   * call), e.g. "two DescribeInstances since the change"; rejects after timeoutMs.
   */
  waitForRequests(condition: (requests: readonly Ec2ProxyRequest[]) => boolean, timeoutMs = 10_000): Promise<Ec2ProxyRequest[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition(this.log)) return;
        cleanup();
        resolve(this.log.map((r) => structuredClone(r)));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`EC2 fault proxy: condition not met after ${timeoutMs} ms; ${this.log.length} calls: ${this.log.map((r) => `${r.action}→${r.status}`).join(', ')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stops the proxy and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    if (this.exited || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const guard = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(guard);
  }

  private command(fields: Omit<Ec2ProxyCommand, 'id'>): Promise<Ec2Faults> {
    if (this.exited) return Promise.reject(new Error('EC2 fault proxy has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.acks.set(id, (line) => (line.error === undefined ? resolve(line.faults ?? {}) : reject(new Error(`EC2 fault proxy: ${line.error}`))));
      this.child.stdin?.write(`${JSON.stringify({ id, ...fields })}\n`);
    });
  }

  private onLine(line: Record<string, unknown>): void {
    if (line['request'] !== undefined) {
      this.log.push(line['request'] as Ec2ProxyRequest);
      for (const waiter of [...this.waiters]) waiter();
    } else if (typeof line['ack'] === 'number') {
      const ack = this.acks.get(line['ack']);
      this.acks.delete(line['ack']);
      ack?.(line as { faults?: Ec2Faults; error?: string });
    }
  }

  private onExit(): void {
    this.exited = true;
    for (const ack of this.acks.values()) ack({ error: 'exited' });
    this.acks.clear();
  }
}
