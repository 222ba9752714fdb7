import { describe, expect, it } from 'vitest';
import { ResponseParser } from '../../../src/http/response.js';

const enc = (s: string) => new TextEncoder().encode(s);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY';

function statuses(methods: string[], chunks: string[]): { statuses: number[]; errors: string[] } {
  const queue = [...methods];
  const p = new ResponseParser(() => queue.shift());
  const out: number[] = [];
  const errors: string[] = [];
  for (const c of chunks) {
    const r = p.push(enc(c));
    out.push(...r.responses.map((x) => x.status));
    if (r.error) errors.push(r.error);
  }
  return { statuses: out, errors };
}

const OK = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const CREDS = OK(JSON.stringify({ Code: 'Success', AccessKeyId: 'ASIACANARY', SecretAccessKey: SECRET, Token: 'IQoCANARY' }));
const STREAM = OK('i-0123456789abcdef0') + 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n' + CREDS;

describe('ResponseParser', () => {
  it('reads statuses of keep-alive responses and skips bodies', () => {
    expect(statuses(['GET', 'GET', 'GET'], [STREAM]).statuses).toEqual([200, 401, 200]);
  });

  it('gives the same statuses whatever byte the stream is split at', () => {
    for (let i = 1; i < STREAM.length; i++) {
      expect(statuses(['GET', 'GET', 'GET'], [STREAM.slice(0, i), STREAM.slice(i)]).statuses).toEqual([200, 401, 200]);
    }
  });

  it('knows a HEAD response has no body even with Content-Length', () => {
    const s = 'HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n' + OK('x');
    expect(statuses(['HEAD', 'GET'], [s]).statuses).toEqual([200, 200]);
  });

  it('skips 100 Continue and chunked bodies', () => {
    const s = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' + OK('y');
    expect(statuses(['PUT', 'GET'], [s]).statuses).toEqual([200, 200]);
  });

  it('treats a body without length as running to the close', () => {
    expect(statuses(['GET', 'GET'], ['HTTP/1.0 200 OK\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n']).statuses).toEqual([200]);
  });

  it('rejects what is not an HTTP/1 status line', () => {
    expect(statuses(['GET'], ['SSH-2.0-OpenSSH\r\n\r\n']).errors).toEqual(['bad_status_line']);
  });

  it('holds nothing of a body in memory between pushes', () => {
    const queue = ['GET', 'GET'];
    const p = new ResponseParser(() => queue.shift());
    const head = CREDS.slice(0, CREDS.indexOf('\r\n\r\n') + 4);
    p.push(enc(head));
    p.push(enc(CREDS.slice(head.length, head.length + 40)));
    // The only bytes a parser keeps between pushes are an unfinished head.
    const held = (p as unknown as { stream: { pending: Uint8Array } }).stream.pending;
    expect(held.length).toBe(0);
    // and the rest of the body is skipped by count: the next response is found
    expect(p.push(enc(CREDS.slice(head.length + 40) + OK('x'))).responses).toEqual([{ status: 200 }]);
  });
});
