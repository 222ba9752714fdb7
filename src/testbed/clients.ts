// testbed/: the real IMDS clients the demo and e2e tests run (curl v1/v2, a shell script, the AWS SDK).

import { fileURLToPath } from 'node:url';
import { IMDS_IPV4, IMDS_IPV6 } from '../imds-endpoint.js';
import type { SplitClientResult, SplitClientSpec } from './split-client.js';
import type { Testbed } from './testbed.js';
import type { TestbedNamespace } from './testbed-layout.js';
import { scaledMs } from './time-scale.js';

/** A finished client: its pid (what attribution must report), exit code and output. */
export interface ClientRun {
  pid: number;
  code: number | null;
  stdout: string;
  /** What it said on stderr (its first 500 bytes: curl's error, for a test's failure message). */
  stderr: string;
  /** The comm the kernel gives it (basename of the program, 15 chars). */
  comm: string;
  /** The client's own source port, when the client reports it (curl). */
  localPort?: number;
}

export const IMDS_V4 = `http://${IMDS_IPV4}`;
export const IMDS_V6 = `http://[${IMDS_IPV6}]`;

/** Runs argv inside `ns` and waits for it; the pid is the program's own (`ip netns exec` execs in place). */
export function runClient(testbed: Testbed, ns: TestbedNamespace, argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = testbed.spawn(ns, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    const err: Buffer[] = [];
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ pid: child.pid ?? -1, code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).subarray(0, 500).toString(), comm: (argv[0]?.split('/').pop() ?? '').slice(0, 15) });
    });
  });
}

/** curl's --max-time: 3 s, stretched where the testbed runs slowly (time-scale.ts). */
const curlMaxTime = (): string => String(Math.round(scaledMs(3000) / 1000));

/** `curl` IMDSv1: a token-less GET. stdout is the HTTP status; `localPort` the source port curl used. */
export async function curlV1(testbed: Testbed, ns: TestbedNamespace, path = '/latest/meta-data/instance-id', base = IMDS_V4): Promise<ClientRun> {
  const run = await runClient(testbed, ns, ['curl', '-sS', '-g', '--max-time', curlMaxTime(), '-o', '/dev/null', '-w', '%{http_code} %{local_port}', `${base}${path}`]);
  const [status = '', port = ''] = run.stdout.split(' ');
  return { ...run, stdout: status, localPort: Number(port) || undefined };
}

/** `curl` token PUT; stdout is the token (kept by the caller, never printed). */
export function curlToken(testbed: Testbed, ns: TestbedNamespace, base = IMDS_V4, maxTimeSeconds = Number(curlMaxTime())): Promise<ClientRun> {
  return runClient(testbed, ns, [
    'curl', '-sS', '-g', '--max-time', String(maxTimeSeconds), '-X', 'PUT',
    '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600', `${base}/latest/api/token`,
  ]);
}

/** `curl` GET with a token header (the token is on its command line, as in real scripts). */
export function curlWithToken(testbed: Testbed, ns: TestbedNamespace, token: string, path = '/latest/meta-data/instance-id', base = IMDS_V4): Promise<ClientRun> {
  return runClient(testbed, ns, [
    'curl', '-sS', '-g', '--max-time', curlMaxTime(), '-o', '/dev/null', '-w', '%{http_code}',
    '-H', `X-aws-ec2-metadata-token: ${token}`, `${base}${path}`,
  ]);
}

/** Path of a compiled testbed script (dist/src/testbed/<name>.js), from dist or the sources. */
export function testbedScript(name: string): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? fileURLToPath(new URL(`../../dist/src/testbed/${name}.js`, import.meta.url))
    : fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/**
 * A `node` process whose command line holds the token header (as `curl -H` in a
 * script does) and which lives long enough for /proc to be read: the cmdline
 * redaction is tested on it.
 */
export function nodeWithTokenOnCmdline(testbed: Testbed, ns: TestbedNamespace, token: string, path = '/latest/meta-data/instance-id'): Promise<ClientRun> {
  return runClient(testbed, ns, [process.execPath, testbedScript('token-client'), `X-aws-ec2-metadata-token: ${token}`, path]).then((run) => ({
    ...run,
    comm: 'node',
  }));
}

/** The AWS SDK for JavaScript's IMDS credential provider, in its own `node` process. */
export function sdkCredentials(testbed: Testbed, ns: TestbedNamespace, options: { ipv6?: boolean; timeoutMs?: number } = {}): Promise<ClientRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['AWS_EC2_METADATA_SERVICE_ENDPOINT'];
  delete env['AWS_EC2_METADATA_DISABLED'];
  delete env['AWS_EC2_METADATA_V1_DISABLED']; // imds-sniff sets it for itself; the workload is a default SDK
  env['AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE'] = options.ipv6 ? 'IPv6' : 'IPv4';
  return runClient(testbed, ns, [process.execPath, testbedScript('sdk-client'), String(options.timeoutMs ?? scaledMs(1000))], env).then((run) => ({
    ...run,
    comm: 'node',
  }));
}

/** A split-client run: the answers' statuses, its source port, and what it printed. */
export interface SplitRun extends ClientRun {
  /** HTTP status of each request, in order (fewer than asked when the client failed). */
  statuses: number[];
  result: SplitClientResult;
}

/**
 * A `node` process that opens one TCP connection (TCP_NODELAY) to `spec.host` and writes
 * each request of `spec` in pieces cut at its split points, one segment apiece, waiting for
 * each answer before the next request (keep-alive). A token PUT's answer is kept for the
 * requests that ask for a token; the token never appears on its command line or output.
 */
export async function splitRequests(testbed: Testbed, ns: TestbedNamespace, spec: SplitClientSpec): Promise<SplitRun> {
  const run = await runClient(testbed, ns, [process.execPath, testbedScript('split-client'), JSON.stringify(spec)]);
  let result: SplitClientResult;
  try {
    result = JSON.parse(run.stdout) as SplitClientResult;
  } catch {
    result = { localAddress: null, localPort: null, statuses: [], pieces: [], tokenBytes: null, error: `unparsed output (exit ${run.code}): ${run.stdout.slice(0, 200)}` };
  }
  return { ...run, comm: 'node', statuses: result.statuses, result, ...(result.localPort === null ? {} : { localPort: result.localPort }) };
}
