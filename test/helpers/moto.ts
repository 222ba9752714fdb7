// Test helper: runs moto_server (the AWS API emulator) on 127.0.0.1 (or another address) for the end-to-end tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { findExecutable } from '../../src/testbed/prerequisites.js';

/** Why the moto tests would be skipped, or null to run them (CI with IMDS_SNIFF_REQUIRE_E2E=1 always runs them, and fails without moto). */
export function motoSkipReason(): string | null {
  if (process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1') return null;
  return findExecutable('moto_server') === undefined ? 'moto_server not found on PATH (pip install "moto[server]==5.2.1")' : null;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Options for MotoServer.start beyond port and namespace. */
export interface MotoStartOptions {
  /**
   * Address to bind; default 127.0.0.1. '0.0.0.0' inside a testbed's host namespace makes
   * moto reachable from the imds namespace too, at `endpointAt(testbed.layout.host.v4)`.
   * Outside a namespace a wildcard would expose moto on the machine's own interfaces.
   */
  host?: string;
}

/** One moto_server process; `restart()` starts a new one on the same port (moto keeps its data in memory, so it starts empty). */
export class MotoServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    /** Network namespace it runs in (its 127.0.0.1 is that namespace's), or null for this one. */
    readonly netns: string | null = null,
    /** Address it binds (see MotoStartOptions.host). */
    readonly host = '127.0.0.1',
  ) {}

  /**
   * Starts moto_server and resolves once it prints its "Running on" line. With
   * `netns` it runs inside that namespace (for an agent running there).
   */
  static async start(port?: number, netns: string | null = null, options: MotoStartOptions = {}): Promise<MotoServer> {
    const moto = new MotoServer(port ?? (await freePort()), netns, options.host);
    await moto.launch();
    return moto;
  }

  /** Endpoint URL from moto's own namespace: 127.0.0.1 unless it is bound to one other address. */
  get endpoint(): string {
    const wildcard: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };
    return this.endpointAt(wildcard[this.host] ?? this.host);
  }

  /** Endpoint URL at another address of moto's namespace, e.g. the testbed host's 10.<block>.0.2 as the imds namespace sees it. */
  endpointAt(address: string): string {
    return `http://${address.includes(':') ? `[${address}]` : address}:${this.port}`;
  }

  private launch(): Promise<void> {
    const argv = ['moto_server', '-H', this.host, '-p', String(this.port)];
    // `ip netns exec` execs in place: the pid (and process group) stay moto's.
    const [file, ...args] = this.netns === null ? argv : ['ip', 'netns', 'exec', this.netns, ...argv];
    const child = spawn(file as string, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    // Should the test process exit without afterAll (a crash, process.exit), the server goes with it.
    const killOnExit = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`moto_server did not start within 20 s:\n${output}`)), 20_000);
      const onData = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-4000);
        // Bound to 0.0.0.0 moto prints a line per address, 127.0.0.1 among them.
        if (output.includes(`Running on ${this.endpoint}`)) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stderr?.off('data', onData);
          child.stdout?.resume();
          child.stderr?.resume();
          resolve();
        }
      };
      function fail(error: Error): void {
        clearTimeout(timer);
        reject(error);
      }
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (e) => fail(new Error((e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'moto_server not found on PATH, and IMDS_SNIFF_REQUIRE_E2E=1 requires it: pip install "moto[server]==5.2.1"'
        : `cannot run moto_server: ${e.message}`)));
      child.once('exit', (code, signal) => fail(new Error(`moto_server exited (${code ?? signal}) before it was ready:\n${output}`)));
    });
  }

  /** Stops the server (its whole process group) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = child.pid;
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal);
      } catch {
        /* already gone */
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** A new, empty moto_server on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}
