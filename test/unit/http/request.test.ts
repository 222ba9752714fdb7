import { describe, expect, it } from 'vitest';
import { RequestParser, pathOfTarget, type HttpRequest } from '../../../src/http/request.js';
import { DEFAULT_HTTP_LIMITS, HttpMessageStream, type RawHead } from '../../../src/http/message-stream.js';

const enc = (s: string) => new TextEncoder().encode(s);

function parseAll(chunks: string[]): { requests: HttpRequest[]; errors: string[] } {
  const p = new RequestParser();
  const requests: HttpRequest[] = [];
  const errors: string[] = [];
  for (const c of chunks) {
    const r = p.push(enc(c));
    requests.push(...r.requests);
    if (r.error) errors.push(r.error);
  }
  return { requests, errors };
}

const TOKEN = 'AQAEAFakeCanaryTokenValue0123456789abcdefghijklmnopqrstuv==';
const V1 = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n';
const PUT = 'PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n';
const V2 = `GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\nx-aws-ec2-metadata-token: ${TOKEN}\r\n\r\n`;
const PIPELINED = V1 + PUT + V2;

describe('RequestParser', () => {
  it('parses a v1 GET', () => {
    const { requests } = parseAll([V1]);
    expect(requests).toEqual([
      { method: 'GET', path: '/latest/meta-data/instance-id', httpVersion: '1.1', hasToken: false, tokenTtlSeconds: null, userAgent: 'curl/7.88.1', forwarded: false },
    ]);
  });

  it('parses a token PUT and a token GET without keeping the token', () => {
    const { requests } = parseAll([PUT + V2]);
    expect(requests.map((r) => [r.method, r.path, r.hasToken, r.tokenTtlSeconds])).toEqual([
      ['PUT', '/latest/api/token', false, '21600'],
      ['GET', '/latest/meta-data/iam/security-credentials/', true, null],
    ]);
    expect(JSON.stringify(requests)).not.toContain(TOKEN);
  });

  it('gives the same requests whatever byte the stream is split at', () => {
    const whole = parseAll([PIPELINED]).requests;
    expect(whole).toHaveLength(3);
    for (let i = 1; i < PIPELINED.length; i++) {
      expect(parseAll([PIPELINED.slice(0, i), PIPELINED.slice(i)]).requests).toEqual(whole);
    }
  });

  it('gives the same requests fed one byte at a time', () => {
    expect(parseAll([...PIPELINED]).requests).toEqual(parseAll([PIPELINED]).requests);
  });

  it.each([
    ['bare LF line ends', 'GET /latest/meta-data/ HTTP/1.1\nHost: x\n\n', { method: 'GET', path: '/latest/meta-data/' }],
    ['case-insensitive token header', `GET /x HTTP/1.1\r\nX-AWS-EC2-METADATA-TOKEN: ${TOKEN}\r\n\r\n`, { hasToken: true }],
    ['odd spacing', `GET   /x    HTTP/1.1\r\nx-aws-ec2-metadata-token:${TOKEN}   \r\n\r\n`, { path: '/x', hasToken: true }],
    ['absolute-form target', 'GET http://169.254.169.254/latest/meta-data/ami-id?x=1 HTTP/1.1\r\n\r\n', { path: '/latest/meta-data/ami-id' }],
    ['empty token header is not a token', 'GET /x HTTP/1.1\r\nX-aws-ec2-metadata-token: \r\n\r\n', { hasToken: false }],
    ['HTTP/1.0', 'GET /x HTTP/1.0\r\n\r\n', { httpVersion: '1.0' }],
    ['X-Forwarded-For', 'PUT /latest/api/token HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n', { forwarded: true }],
    ['leading blank lines', '\r\n\r\nGET /x HTTP/1.1\r\n\r\n', { path: '/x' }],
    ['control characters in the path', 'GET /a\x1b[31mb HTTP/1.1\r\n\r\n', { path: '/a?[31mb' }],
  ])('tolerates %s', (_name, raw, expected) => {
    const { requests, errors } = parseAll([raw]);
    expect(errors).toEqual([]);
    expect(requests[0]).toMatchObject(expected);
  });

  it('skips a request body by Content-Length and by chunks', () => {
    const body = 'PUT /latest/api/token HTTP/1.1\r\nContent-Length: 11\r\n\r\nGET /hiddenGET /a HTTP/1.1\r\n\r\n';
    expect(parseAll([body]).requests.map((r) => r.path)).toEqual(['/latest/api/token', '/a']);
    const chunked = 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\n';
    expect(parseAll([chunked]).requests.map((r) => r.path)).toEqual(['/x', '/b']);
  });

  it.each([
    ['binary garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 'request_bad_request_line'],
    ['lower-case method', 'get /x HTTP/1.1\r\n\r\n', 'bad_method'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'bad_http_version'],
    ['header without colon', 'GET /x HTTP/1.1\r\nNoColon\r\n\r\n', 'bad_header'],
  ])('stops on %s and says why', (_name, raw, reason) => {
    const { requests, errors } = parseAll([raw, V1]);
    expect(requests).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(reason.replace(/^request_/, ''));
  });

  it('reports a request whose body framing is contradictory, then stops', () => {
    const { requests, errors } = parseAll(['GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', V1]);
    expect(requests.map((r) => r.path)).toEqual(['/x']);
    expect(errors).toEqual(['bad_content_length']);
  });

  it('bounds the head size', () => {
    const p = new RequestParser({ maxHeadBytes: 256, maxHeaders: 100 });
    const r = p.push(enc(`GET /x HTTP/1.1\r\nX-Big: ${'a'.repeat(1000)}`));
    expect(r.error).toBe('head_too_large');
  });

  it('bounds the header count', () => {
    const p = new RequestParser({ maxHeadBytes: 65536, maxHeaders: 3 });
    const r = p.push(enc('GET /x HTTP/1.1\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\n\r\n'));
    expect(r.error).toBe('too_many_headers');
  });

  it('never lets a token reach a folded header value, even inside http/', () => {
    const { requests } = parseAll([`GET /x HTTP/1.1\r\nX-aws-ec2-metadata-token: abc\r\n ${TOKEN}\r\n\r\n`]);
    expect(requests[0]?.hasToken).toBe(true);
    const heads: RawHead[] = [];
    const stream = new HttpMessageStream(DEFAULT_HTTP_LIMITS, (head) => (heads.push(head), { kind: 'none' }), new Set(['x-aws-ec2-metadata-token']));
    stream.push(enc(`GET /x HTTP/1.1\r\nX-aws-ec2-metadata-token: abc\r\n ${TOKEN}\r\nUser-Agent: t\r\n\r\n`));
    expect(heads[0]?.headers).toEqual([
      ['x-aws-ec2-metadata-token', `[redacted:${4 + TOKEN.length}]`],
      ['user-agent', 't'],
    ]);
  });
});

describe('pathOfTarget', () => {
  it.each([
    ['/latest/meta-data/', '/latest/meta-data/'],
    ['/latest/meta-data/?q=1', '/latest/meta-data/'],
    ['http://169.254.169.254', '/'],
    ['http://[fd00:ec2::254]/latest/api/token', '/latest/api/token'],
    ['/' + 'a'.repeat(600), '/' + 'a'.repeat(511) + '…'],
    ['http://user:pw0rd@169.254.169.254/latest/meta-data/', '/latest/meta-data/'],
    ['http?//fuzz:FuzzCanaryBasic:pw@169.254.169.254/latest/', '/latest/'],
    ['ht\u0000p://user:pw@host', '/'],
    ['http:?/f?zz:FuzzCanaryBasicPw@169.254.169.254/latest/', '[not a path]'],
    ['169.254.169.254:80', '[not a path]'],
    ['*', '*'],
    ['//user:pw@host/x', '//user:[redacted]'],
  ])('%s → %s', (target, path) => expect(pathOfTarget(target)).toBe(path));
});

describe('RequestParser on hostile line ends: no secret reaches a printed field', () => {
  const CANARY = 'AQAEAHostileCanary0123456789abcdefghijklmnopqrstuvwxyz==';
  it.each([
    // What follows a bare CR is not read: not printed, and a token there does not make the request IMDSv2.
    ['a bare CR before the token header', `GET /latest/meta-data/ HTTP/1.1\r\nUser-Agent: curl\rX-aws-ec2-metadata-token: ${CANARY}\r\n\r\n`, 'curl', false],
    ['bare CRs only inside the head', `GET /latest/meta-data/ HTTP/1.1\rHost: x\rUser-Agent: curl\rX-aws-ec2-metadata-token: ${CANARY}\r\n\r\n`, null, false],
    ['a bare CR inside a header value (the request is kept)', 'GET /latest/meta-data/ HTTP/1.1\r\nUser-Agent: foo\rbar\r\nAccept: */*\r\n\r\n', 'foo', false],
    ['a line that is only what follows a bare CR', `GET / HTTP/1.1\r\n\rX-aws-ec2-metadata-token: ${CANARY}\r\nUser-Agent: curl\r\n\r\n`, 'curl', false],
    ['a NUL where the line break was', `GET /latest/meta-data/ HTTP/1.1\r\nUser-Agent: curl\u0000\u0000X-aws-ec2-metadata-token: ${CANARY}\r\n\r\n`, 'curl', false],
    ['printable junk where the line break was', `GET /latest/meta-data/ HTTP/1.1\r\nUser-Agent: curlabX-aws-ec2-metadata-token: ${CANARY}\r\n\r\n`, 'curlabX-aws-ec2-metadata-token: [redacted]', false],
    ['an obs-fold that glues the token header on', `GET /latest/meta-data/ HTTP/1.1\r\nUser-Agent: curl\r\n X-aws-ec2-metadata-token: ${CANARY}\r\n\r\n`, 'curl X-aws-ec2-metadata-token: [redacted]', false],
    ['an Authorization header glued on', 'GET / HTTP/1.1\r\nUser-Agent: curl\u0001Authorization: Basic dXNlcjpzZWNyZXRwYXNzd29yZA==\r\n\r\n', 'curl', false],
    ['a cookie glued on with junk', 'GET / HTTP/1.1\r\nUser-Agent: curl zzCookie: session=s3cr3t-cookie-value\r\n\r\n', 'curl zzCookie: [redacted]', false],
    ['the token in the path', `GET /latest/${CANARY} HTTP/1.1\r\nUser-Agent: curl\r\n\r\n`, 'curl', false],
  ])('%s', (_name, request, userAgent, hasToken) => {
    const { requests, errors } = parseAll([request]);
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.userAgent).toBe(userAgent);
    expect(requests[0]?.hasToken).toBe(hasToken);
    const text = JSON.stringify(requests);
    for (const secret of [CANARY.slice(4, 20), 'dXNlcjpzZWNyZXRwYXNzd29yZA', 's3cr3t-cookie-value']) expect(text).not.toContain(secret);
  });

  it('reads a bare CR the same wherever the head is split, and keeps the requests after it', () => {
    const request = `GET /latest/meta-data/ HTTP/1.1\r\nUser-Agent: curl\rX-aws-ec2-metadata-token: ${CANARY}\r\n\r\nGET /x HTTP/1.1\r\n\r\n`;
    for (let i = 1; i < request.length; i++) {
      const { requests, errors } = parseAll([request.slice(0, i), request.slice(i)]);
      expect(errors).toEqual([]);
      expect(requests.map((r) => [r.path, r.userAgent, r.hasToken])).toEqual([['/latest/meta-data/', 'curl', false], ['/x', null, false]]);
    }
  });
});
