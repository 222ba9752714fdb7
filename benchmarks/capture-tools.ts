// Benchmark side: the tools the agent is compared with (tcpdump, tshark), run in a testbed
// namespace on the same interface and filter as the agent, and counted the same way.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnInNetns } from '../src/testbed/netns.js';

/** What an operator would capture: IMDS over IPv4 and IPv6, port 80 (the agent's own filter). */
export const IMDS_FILTER = 'tcp port 80 and (host 169.254.169.254 or host fd00:ec2::254)';

/** A capture tool running in a namespace; `lines` counts what it printed on stdout. */
export interface RunningTool {
  readonly name: string;
  readonly child: ChildProcess;
  lines: number;
  stop(): Promise<void>;
}

/** The two reference tools: tcpdump writing nothing (the capture floor) and tshark printing each request. */
export const REFERENCE_TOOLS = {
  'tcpdump -w /dev/null': ['tcpdump', '-i', 'any', '-n', '-U', '-w', '/dev/null', IMDS_FILTER],
  'tshark (each request)': [
    'tshark',
    '-i',
    'any',
    '-n',
    '-l',
    '-f',
    IMDS_FILTER,
    '-Y',
    'http.request',
    '-T',
    'fields',
    '-e',
    'frame.time_epoch',
    '-e',
    'ip.src',
    '-e',
    'tcp.srcport',
    '-e',
    'http.request.method',
    '-e',
    'http.request.uri',
  ],
} as const;

const floorScript = new URL('./floor.js', import.meta.url).pathname;

/**
 * The agent's fixed costs without its work (benchmarks/floor.ts): the pcap module with a no-op
 * per packet, and the tracefs readers with a no-op per page.
 * They print nothing: `reported` is null for them, as for tcpdump.
 */
export const FLOOR_TOOLS = {
  'floor: node + pcap, no-op': [process.execPath, floorScript, 'pcap'],
  'floor: node + trace readers, no-op': [process.execPath, floorScript, 'trace'],
} as const;

export type ReferenceTool = keyof typeof REFERENCE_TOOLS | keyof typeof FLOOR_TOOLS;

/** True for the tools that print one line per request (the others' `reported` is null). */
export function printsRequests(tool: ReferenceTool): boolean {
  return tool === 'tshark (each request)';
}

const COMMANDS: Record<ReferenceTool, readonly string[]> = { ...REFERENCE_TOOLS, ...FLOOR_TOOLS };

/**
 * Starts `tool` in namespace `ns` and resolves once it says its capture is open
 * (both print "listening on" / "Capturing on" to stderr when the socket is ready).
 */
export function startReferenceTool(ns: string, tool: ReferenceTool, timeoutMs = 30_000): Promise<RunningTool> {
  const child = spawnInNetns(ns, [...COMMANDS[tool]], { stdio: ['ignore', 'pipe', 'pipe'] });
  const running: RunningTool = {
    name: tool,
    child,
    lines: 0,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  createInterface({ input: child.stdout! }).on('line', () => {
    running.lines += 1;
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${tool} did not start within ${timeoutMs} ms: ${stderr.trim()}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on|Capturing on/.test(stderr)) {
        clearTimeout(timer);
        resolve(running);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${tool} exited (code ${code}) before its capture opened: ${stderr.trim()}`));
    });
  });
}
