// e2e helper: an HTTP server on the IMDS addresses of a testbed's imds namespace that reports each connection and request.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { SocketKey } from '../../../src/attribute/types.js';
import { IMDS_PORT } from '../../../src/imds-endpoint.js';
import type { Testbed } from '../../../src/testbed/testbed.js';

/** One accepted connection as the server saw it: the client's own view of its socket. */
export interface ServerConnection {
  key: SocketKey;
  seenAtMs: number;
}

// Dual-stack listener on port 80; reports each connection the moment it is accepted and
// each request's path with the client port, one JSON object per line.
const SERVER = `
const http = require('node:http');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const srv = http.createServer((q, s) => { out({ ev: 'req', path: q.url, port: q.socket.remotePort }); s.setHeader('Connection', 'close'); s.end('ok'); });
srv.on('connection', (c) => out({ ev: 'conn', addr: c.remoteAddress, port: c.remotePort, local: c.localAddress }));
srv.listen({ port: ${IMDS_PORT}, host: '::', ipv6Only: false }, () => out({ ev: 'listening' }));
`;

/**
 * Stands in for the mock IMDS where a test needs to see each connection the moment it is
 * accepted (to look its owner up at SYN time, as the pipeline does): start it on a testbed
 * built with `startMock: false`. The testbed's destroy() also ends it.
 */
export class ReportingImds {
  private readonly connListeners = new Set<(c: ServerConnection) => void>();
  private readonly portByPath = new Map<string, number>();
  private readonly pathWaiters = new Map<string, (port: number) => void>();

  private constructor(private readonly proc: ChildProcess) {}

  /** Starts the server in `testbed`'s imds namespace; resolves once it listens. */
  static async start(testbed: Testbed, timeoutMs = 10_000): Promise<ReportingImds> {
    const proc = testbed.spawn('imds', [process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const server = new ReportingImds(proc);
    try {
      await server.listening(timeoutMs);
    } catch (error) {
      server.stop();
      throw error;
    }
    return server;
  }

  /** Calls `cb` for every connection the server accepts. Returns an unsubscribe. */
  onConnection(cb: (c: ServerConnection) => void): () => void {
    this.connListeners.add(cb);
    return () => this.connListeners.delete(cb);
  }

  /** The client source port of the request for `path`, once the server has seen it. */
  requestPort(path: string, timeoutMs = 10_000): Promise<number> {
    const port = this.portByPath.get(path);
    if (port !== undefined) return Promise.resolve(port);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request for ${path}`)), timeoutMs);
      this.pathWaiters.set(path, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
  }

  /** Kills the server. Safe to call twice. */
  stop(): void {
    this.proc.kill('SIGKILL');
  }

  private listening(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('IMDS test server did not start')), timeoutMs);
      this.proc.once('exit', (code) => reject(new Error(`IMDS test server exited (${code})`)));
      createInterface({ input: this.proc.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { ev: string; addr?: string; port?: number; local?: string; path?: string };
        if (msg.ev === 'listening') {
          clearTimeout(timer);
          resolve();
        } else if (msg.ev === 'conn' && msg.addr && msg.port && msg.local) {
          const v4 = msg.addr.startsWith('::ffff:');
          const key: SocketKey = v4
            ? { family: 4, srcIp: msg.addr.slice(7), srcPort: msg.port, dstIp: msg.local.slice(7), dstPort: IMDS_PORT }
            : { family: 6, srcIp: msg.addr, srcPort: msg.port, dstIp: msg.local, dstPort: IMDS_PORT };
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
