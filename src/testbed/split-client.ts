// testbed/: a client that writes each IMDS request in pieces, one TCP segment apiece, on one keep-alive connection.
// `node split-client.js '<SplitClientSpec as JSON>'`: prints one JSON line (SplitClientResult); never the token.

import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Where to cut a request (head and body together): a byte offset, or just after the
 * first occurrence of `after` in the request, moved on by `plus` bytes (may be negative).
 * `{ after: 'HTTP/1.1\r' }` cuts between CR and LF.
 */
export type SplitPoint = number | { after: string; plus?: number };

/** One request on the connection; each is written in pieces and answered before the next. */
export interface SplitRequest {
  method: 'GET' | 'PUT' | 'HEAD';
  path: string;
  /** Adds `X-aws-ec2-metadata-token-ttl-seconds` (a token PUT asks for one: 21600). */
  tokenTtlSeconds?: number;
  /** Adds `X-aws-ec2-metadata-token` with the token the last token PUT on this connection got. */
  withToken?: boolean;
  /** A body, sent with its `Content-Length`. */
  body?: string;
  /** Cut points; none sends the request in one segment. */
  splitAt?: SplitPoint[];
}

/** The command-line argument of split-client.js. */
export interface SplitClientSpec {
  /** IPv4 or IPv6 literal, e.g. 169.254.169.254 or fd00:ec2::254. */
  host: string;
  /** Default 80. */
  port?: number;
  /** Pause after each piece but the last, so each leaves as its own segment. Default 25. */
  pauseMs?: number;
  /** Give up (exit 1) after this long. Default 5000. */
  timeoutMs?: number;
  requests: SplitRequest[];
}

/** What split-client.js prints: one JSON line. The token itself is never printed, only its length. */
export interface SplitClientResult {
  localAddress: string | null;
  localPort: number | null;
  /** HTTP status of each answer, in request order. */
  statuses: number[];
  /** Pieces each request was written in. */
  pieces: number[];
  /** Length of the last token a PUT got, or null. */
  tokenBytes: number | null;
  error: string | null;
}

const TOKEN_PATH = '/latest/api/token';
const USER_AGENT = 'imds-sniff-split-client/1';

/** The bytes of one request, token filled in. */
export function renderRequest(request: SplitRequest, host: string, port: number, token: string | null): Buffer {
  const authority = host.includes(':') ? `[${host}]` : host;
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${port === 80 ? authority : `${authority}:${port}`}`, `User-Agent: ${USER_AGENT}`, 'Accept: */*'];
  if (request.tokenTtlSeconds !== undefined) lines.push(`X-aws-ec2-metadata-token-ttl-seconds: ${request.tokenTtlSeconds}`);
  if (request.withToken === true) {
    if (token === null) throw new Error(`${request.method} ${request.path} wants a token, but no token PUT answered before it`);
    lines.push(`X-aws-ec2-metadata-token: ${token}`);
  }
  const body = Buffer.from(request.body ?? '', 'latin1');
  if (request.body !== undefined) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** Cuts `bytes` at the split points (sorted, deduplicated); a point outside 1..length-1 is a bad spec. */
export function splitBytes(bytes: Buffer, points: readonly SplitPoint[]): Buffer[] {
  const offsets = points.map((point) => {
    if (typeof point === 'number') return point;
    const at = bytes.indexOf(point.after, 0, 'latin1');
    if (at < 0) throw new Error(`split point "${JSON.stringify(point.after)}" is not in the request`);
    return at + Buffer.byteLength(point.after, 'latin1') + (point.plus ?? 0);
  });
  for (const offset of offsets) {
    if (!Number.isInteger(offset) || offset < 1 || offset >= bytes.length) throw new Error(`split offset ${offset} is outside 1..${bytes.length - 1}`);
  }
  const cuts = [...new Set(offsets)].sort((a, b) => a - b);
  return [0, ...cuts].map((start, i) => bytes.subarray(start, cuts[i] ?? bytes.length));
}

/** Reads HTTP/1.1 answers with a Content-Length (what IMDS sends) off one socket, in order. */
class AnswerReader {
  private buffer = Buffer.alloc(0);
  private closed: Error | null = null;
  private wake: () => void = () => {};

  constructor(socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.wake();
    });
    socket.on('end', () => this.close(new Error('the server closed the connection')));
    socket.on('error', (error) => this.close(error));
  }

  /** The next answer; a HEAD answer has no body. */
  async next(method: string): Promise<{ status: number; body: Buffer }> {
    for (;;) {
      const answer = this.take(method);
      if (answer !== null) return answer;
      if (this.closed !== null) throw this.closed;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private take(method: string): { status: number; body: Buffer } | null {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return null;
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 40))}`);
    const length = method === 'HEAD' ? 0 : Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const end = headEnd + 4 + length;
    if (this.buffer.length < end) return null;
    const body = this.buffer.subarray(headEnd + 4, end);
    this.buffer = this.buffer.subarray(end);
    return { status, body };
  }

  private close(error: Error): void {
    this.closed ??= error;
    this.wake();
  }
}

/** Writes one piece and resolves once the kernel has it (with TCP_NODELAY it leaves at once). */
function write(socket: Socket, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(piece, (error) => (error ? reject(error) : resolve())));
}

/** Runs the spec on one connection; fills `result` as it goes, so a failure still reports what happened. */
async function run(spec: SplitClientSpec, result: SplitClientResult): Promise<void> {
  const port = spec.port ?? 80;
  const socket = connect({ host: spec.host, port });
  socket.setNoDelay(true);
  const reader = new AnswerReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  result.localAddress = socket.localAddress ?? null;
  result.localPort = socket.localPort ?? null;
  let token: string | null = null;
  try {
    for (const request of spec.requests) {
      const pieces = splitBytes(renderRequest(request, spec.host, port, token), request.splitAt ?? []);
      result.pieces.push(pieces.length);
      for (const [i, piece] of pieces.entries()) {
        await write(socket, piece);
        if (i < pieces.length - 1) await sleep(spec.pauseMs ?? 25);
      }
      const answer = await reader.next(request.method);
      result.statuses.push(answer.status);
      if (request.method === 'PUT' && request.path === TOKEN_PATH && answer.status === 200) {
        token = answer.body.toString('latin1');
        result.tokenBytes = answer.body.length;
      }
    }
  } finally {
    socket.end();
  }
}

/** Entry when run as a child. */
async function main(): Promise<void> {
  const result: SplitClientResult = { localAddress: null, localPort: null, statuses: [], pieces: [], tokenBytes: null, error: null };
  try {
    const spec = JSON.parse(process.argv[2] ?? '') as SplitClientSpec;
    const timeout = AbortSignal.timeout(spec.timeoutMs ?? 5000);
    await Promise.race([
      run(spec, result),
      new Promise((_, reject) => timeout.addEventListener('abort', () => reject(new Error(`timed out after ${spec.timeoutMs ?? 5000} ms`)))),
    ]);
  } catch (error) {
    result.error = (error as Error).message;
    process.exitCode = 1;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // A timed-out socket must not keep the process alive.
  if (result.error !== null) process.exit();
}

void main();
