// http/: splits one direction's byte stream into HTTP/1.x message heads, skipping bodies (RFC 9112 §6).

/** Bounds on what one connection may make us hold. */
export interface HttpLimits {
  /** Start line + header section, bytes. */
  maxHeadBytes: number;
  maxHeaders: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 100 };

/** A message head: the start line and headers with lower-cased names. */
export interface RawHead {
  startLine: string;
  headers: Array<[name: string, value: string]>;
}

/** How the body after a head is delimited. */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' };

export interface PushResult {
  heads: RawHead[];
  /** Set once the stream is no longer HTTP we can follow; nothing more is parsed. */
  error: string | null;
}

const LF = 0x0a;
const MAX_CHUNK_LINE = 1024;

type State =
  | { at: 'head' }
  | { at: 'body'; remaining: number }
  | { at: 'chunk-size' }
  | { at: 'chunk-data'; remaining: number }
  | { at: 'chunk-end' }
  | { at: 'trailers' }
  | { at: 'until-close' }
  | { at: 'broken'; reason: string };

/**
 * Incremental HTTP/1.x framer for one direction of one connection. Accepts
 * bytes split anywhere; tolerates bare LF line ends, bare CRs inside a head and
 * blank lines between messages. Body bytes are skipped, never kept. Values of `secretHeaders` are
 * replaced by `[redacted:<length>]` before anything else sees them.
 */
export class HttpMessageStream {
  private state: State = { at: 'head' };
  /** Unconsumed bytes of the current line/head. */
  private pending: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly limits: HttpLimits,
    private readonly frame: (head: RawHead) => BodyFraming | string,
    private readonly secretHeaders: ReadonlySet<string> = new Set(),
  ) {}

  get broken(): boolean {
    return this.state.at === 'broken';
  }

  /** Part of a head is held: a message began and has not ended (at a close, it is lost). */
  get inHead(): boolean {
    return this.state.at === 'head' && this.pending.some((byte) => byte !== 0x0d && byte !== 0x0a);
  }

  push(bytes: Uint8Array): PushResult {
    const heads: RawHead[] = [];
    let data = this.pending.length > 0 ? concat(this.pending, bytes) : bytes;
    this.pending = new Uint8Array(0);
    let pos = 0;
    while (pos < data.length && this.state.at !== 'broken' && this.state.at !== 'until-close') {
      const state = this.state;
      switch (state.at) {
        case 'head': {
          const end = findHeadEnd(data, pos);
          if (end < 0) {
            if (data.length - pos > this.limits.maxHeadBytes) return this.fail('head_too_large', heads);
            this.pending = copyOf(data, pos);
            return { heads, error: null };
          }
          if (end - pos > this.limits.maxHeadBytes) return this.fail('head_too_large', heads);
          const head = this.parseHead(data.subarray(pos, end));
          pos = end;
          if (head === null) continue; // only blank lines
          if (typeof head === 'string') return this.fail(head, heads);
          heads.push(head);
          const framing = this.frame(head);
          if (typeof framing === 'string') return this.fail(framing, heads);
          this.state = stateFor(framing);
          break;
        }
        case 'body':
        case 'chunk-data': {
          const take = Math.min(state.remaining, data.length - pos);
          pos += take;
          const remaining = state.remaining - take;
          if (remaining > 0) this.state = { at: state.at, remaining };
          else this.state = state.at === 'body' ? { at: 'head' } : { at: 'chunk-end' };
          break;
        }
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const nl = data.indexOf(LF, pos);
          if (nl < 0) {
            if (data.length - pos > MAX_CHUNK_LINE) return this.fail('chunk_line_too_long', heads);
            this.pending = copyOf(data, pos);
            return { heads, error: null };
          }
          const line = latin1(data.subarray(pos, nl)).replace(/\r$/, '');
          pos = nl + 1;
          if (state.at === 'chunk-end') {
            if (line !== '') return this.fail('bad_chunk', heads);
            this.state = { at: 'chunk-size' };
          } else if (state.at === 'trailers') {
            if (line === '') this.state = { at: 'head' };
          } else {
            const size = parseChunkSize(line);
            if (size === null) return this.fail('bad_chunk', heads);
            this.state = size === 0 ? { at: 'trailers' } : { at: 'chunk-data', remaining: size };
          }
          break;
        }
      }
    }
    data = new Uint8Array(0);
    return { heads, error: this.state.at === 'broken' ? this.state.reason : null };
  }

  private fail(reason: string, heads: RawHead[]): PushResult {
    this.state = { at: 'broken', reason };
    this.pending = new Uint8Array(0);
    return { heads, error: reason };
  }

  /**
   * Parses one head (without its final blank line); null when it held only blank lines.
   * Lines end at LF (CRLF or bare LF). What follows a bare CR inside a line is not
   * read: RFC 9112 §2.2 lets a recipient take a bare CR as invalid or as SP, so a
   * header behind one (`User-Agent: curl\rX-aws-ec2-metadata-token: …`) is not one the
   * server is bound to see. It is neither printed (it cannot glue a token onto the
   * User-Agent) nor counted (a token behind it does not make the request IMDSv2:
   * the conservative reading for a verdict that must never wrongly say "safe"),
   * and the request is kept, not rejected.
   */
  private parseHead(bytes: Uint8Array): RawHead | string | null {
    const lines = latin1(bytes)
      .split(/\r?\n/)
      .map((line) => {
        const cr = line.indexOf('\r');
        return cr < 0 ? line : line.slice(0, cr);
      });
    while (lines.length > 0 && lines[0] === '') lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) return null;
    const startLine = lines.shift() as string;
    if (lines.length > this.limits.maxHeaders) return 'too_many_headers';
    const headers: Array<[string, string]> = [];
    for (const line of lines) {
      if (line === '') continue; // a line that held only what followed a bare CR
      if (/^[ \t]/.test(line) && headers.length > 0) {
        // obs-fold (RFC 9112 §5.2): a continuation of the previous value.
        const last = headers[headers.length - 1] as [string, string];
        last[1] = `${last[1]} ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) return 'bad_header';
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) return 'bad_header';
      headers.push([name, line.slice(colon + 1).trim()]);
    }
    // Redact once the values are whole (folding done), so no part of a secret survives.
    for (const pair of headers) {
      if (this.secretHeaders.has(pair[0])) pair[1] = `[redacted:${pair[1].length}]`;
    }
    return { startLine, headers };
  }
}

function stateFor(framing: BodyFraming): State {
  switch (framing.kind) {
    case 'none':
      return { at: 'head' };
    case 'length':
      return framing.length > 0 ? { at: 'body', remaining: framing.length } : { at: 'head' };
    case 'chunked':
      return { at: 'chunk-size' };
    case 'until-close':
      return { at: 'until-close' };
  }
}

/** Index just past the blank line that ends a head starting at `from`, or -1. Leading blank lines are part of it. */
function findHeadEnd(data: Uint8Array, from: number): number {
  let pos = from;
  let sawContent = false;
  while (pos < data.length) {
    const nl = data.indexOf(LF, pos);
    if (nl < 0) return -1;
    const lineLength = nl - pos - (nl > pos && data[nl - 1] === 0x0d ? 1 : 0);
    pos = nl + 1;
    if (lineLength === 0) {
      if (sawContent) return pos;
      // A blank line before a start line is skipped, but it ends an empty head.
      return pos;
    }
    sawContent = true;
  }
  return -1;
}

function parseChunkSize(line: string): number | null {
  const m = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(line);
  return m ? Number.parseInt(m[1] as string, 16) : null;
}

/** Header value by lower-case name (first occurrence). */
export function headerValue(head: RawHead, name: string): string | undefined {
  for (const [n, v] of head.headers) if (n === name) return v;
  return undefined;
}

/** Body framing shared by requests and responses (RFC 9112 §6.3). */
export function framingFromHeaders(head: RawHead, fallback: BodyFraming): BodyFraming | string {
  const te = headerValue(head, 'transfer-encoding');
  if (te !== undefined) {
    return /(^|,)\s*chunked\s*$/i.test(te) ? { kind: 'chunked' } : { kind: 'until-close' };
  }
  const lengths = head.headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
  if (lengths.length === 0) return fallback;
  const values = new Set(lengths.flatMap((v) => v.split(',').map((s) => s.trim())));
  if (values.size !== 1) return 'bad_content_length';
  const text = [...values][0] as string;
  if (!/^\d{1,15}$/.test(text)) return 'bad_content_length';
  return { kind: 'length', length: Number(text) };
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Bytes from `from` on, in memory of their own (never a view of what the caller passed in). */
function copyOf(data: Uint8Array, from: number): Uint8Array {
  const out = new Uint8Array(data.length - from);
  out.set(data.subarray(from));
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
