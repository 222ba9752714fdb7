// e2e helper: a client and an "IMDS" network namespace joined by a veth pair, with an HTTP server.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SocketKey } from '../../../src/attribute/types.js';

/** Why the e2e suite cannot run here, or null when it can. */
export function skipReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tracefs)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 and curl';
  }
  return null;
}

/** One accepted connection as the server saw it: the client's own view of its socket. */
export interface ServerConnection {
  key: SocketKey;
  seenAtMs: number;
}

// Dual-stack listener on port 80; reports each connection the moment it is accepted and
// each request's path with the client port, one JSON object per line.
const SERVER = `
const net = require('node:net'), http = require('node:http');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const srv = http.createServer((q, s) => { out({ ev: 'req', path: q.url, port: q.socket.remotePort }); s.setHeader('Connection', 'close'); s.end('ok'); });
srv.on('connection', (c) => out({ ev: 'conn', addr: c.remoteAddress, port: c.remotePort, local: c.localAddress }));
srv.listen({ port: 80, host: '::', ipv6Only: false }, () => out({ ev: 'listening' }));
`;

/** The two addresses of each family the client uses to reach the fake IMDS. */
export const ADDR = {
  client4: '10.0.2.15',
  imds4: '169.254.169.254',
  client6: 'fd00:ec2::2',
  imds6: 'fd00:ec2::254',
} as const;

/**
 * `<tag>c` (the instance) and `<tag>s` (IMDS) namespaces: 10.0.2.15 → 169.254.169.254 and
 * fd00:ec2::2 → fd00:ec2::254 over a veth pair. Nothing touches the root namespace's routes.
 */
export class Testbed {
  readonly client: string;
  readonly server: string;
  private serverProc: ChildProcess | null = null;
  private readonly connListeners = new Set<(c: ServerConnection) => void>();
  private readonly portByPath = new Map<string, number>();
  private readonly pathWaiters = new Map<string, (port: number) => void>();

  private constructor(readonly tag: string) {
    this.client = `${tag}c`;
    this.server = `${tag}s`;
  }

  static async create(): Promise<Testbed> {
    const bed = new Testbed(`ia${process.pid % 100_000}${Math.floor(Math.random() * 100)}`);
    try {
      bed.build();
      await bed.startServer();
    } catch (err) {
      bed.destroy();
      throw err;
    }
    return bed;
  }

  /** Inode of the client namespace (what ProcessInfo.netns should say for its processes). */
  get clientNetns(): number {
    return statSync(`/run/netns/${this.client}`).ino;
  }

  /** Calls `cb` for every connection the server accepts. Returns an unsubscribe. */
  onConnection(cb: (c: ServerConnection) => void): () => void {
    this.connListeners.add(cb);
    return () => this.connListeners.delete(cb);
  }

  /** The client source port of the request for `path`, once the server has seen it. */
  requestPort(path: string): Promise<number> {
    const port = this.portByPath.get(path);
    if (port !== undefined) return Promise.resolve(port);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request for ${path}`)), 10_000);
      this.pathWaiters.set(path, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
  }

  /** Runs a command inside the client namespace; `ip netns exec` execs it in place, so child.pid is its pid. */
  spawnInClient(cmd: string, args: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.client, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Deletes both namespaces (the veth goes with them) and stops the server. Safe to call twice. */
  destroy(): void {
    this.serverProc?.kill('SIGKILL');
    this.serverProc = null;
    for (const ns of [this.client, this.server]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // Not created, or already gone.
      }
    }
  }

  private build(): void {
    const ip = (...args: string[]): void => {
      execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    };
    const c = this.client;
    const s = this.server;
    const vc = `${this.tag}v0`;
    const vs = `${this.tag}v1`;
    ip('netns', 'add', c);
    ip('netns', 'add', s);
    const macC = '02:00:0a:00:02:0f';
    const macS = '02:00:0a:00:02:01';
    ip('-n', c, 'link', 'add', vc, 'address', macC, 'type', 'veth', 'peer', 'name', vs, 'address', macS, 'netns', s);
    for (const ns of [c, s]) ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', c, 'addr', 'add', `${ADDR.client4}/24`, 'dev', vc);
    ip('-n', s, 'addr', 'add', '10.0.2.1/24', 'dev', vs);
    ip('-n', s, 'addr', 'add', `${ADDR.imds4}/32`, 'dev', vs);
    ip('-n', c, '-6', 'addr', 'add', `${ADDR.client6}/64`, 'dev', vc, 'nodad');
    ip('-n', s, '-6', 'addr', 'add', `${ADDR.imds6}/64`, 'dev', vs, 'nodad');
    ip('-n', c, 'link', 'set', vc, 'up');
    ip('-n', s, 'link', 'set', vs, 'up');
    ip('-n', c, 'route', 'add', `${ADDR.imds4}/32`, 'dev', vc);
    // Static neighbours: the first IPv6 SYN otherwise waits out neighbour discovery (~1 s).
    ip('-n', c, 'neigh', 'add', ADDR.imds6, 'lladdr', macS, 'dev', vc, 'nud', 'permanent');
    ip('-n', s, 'neigh', 'add', ADDR.client6, 'lladdr', macC, 'dev', vs, 'nud', 'permanent');
  }

  private startServer(): Promise<void> {
    const proc = spawn('ip', ['netns', 'exec', this.server, process.execPath, '-e', SERVER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.serverProc = proc;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('IMDS test server did not start')), 10_000);
      proc.once('exit', (code) => reject(new Error(`IMDS test server exited (${code})`)));
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { ev: string; addr?: string; port?: number; local?: string; path?: string };
        if (msg.ev === 'listening') {
          clearTimeout(timer);
          resolve();
        } else if (msg.ev === 'conn' && msg.addr && msg.port && msg.local) {
          const v4 = msg.addr.startsWith('::ffff:');
          const key: SocketKey = v4
            ? { family: 4, srcIp: msg.addr.slice(7), srcPort: msg.port, dstIp: msg.local.slice(7), dstPort: 80 }
            : { family: 6, srcIp: msg.addr, srcPort: msg.port, dstIp: msg.local, dstPort: 80 };
          for (const cb of this.connListeners) cb({ key, seenAtMs: performance.now() });
        } else if (msg.ev === 'req' && msg.path && msg.port) {
          this.portByPath.set(msg.path, msg.port);
          this.pathWaiters.get(msg.path)?.(msg.port);
          this.pathWaiters.delete(msg.path);
        }
      });
    });
  }
}

/** Resolves with the child's exit code. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
