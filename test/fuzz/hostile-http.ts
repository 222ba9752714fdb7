// Fuzz harness: generators of hostile HTTP/1.1 conversations with the metadata service (request and
// response bytes of one connection), each planting canary secrets where a careless parser would leak them.

import { FUZZ_CANARY } from './canaries.js';
import type { Prng } from './prng.js';

/** One request and, usually, its answer, as raw bytes. */
export interface HttpExchangeBytes {
  request: Uint8Array;
  response?: Uint8Array;
}

/** A named way to build one connection's exchanges (several = keep-alive). */
export interface HostileGenerator {
  name: string;
  make(rng: Prng): HttpExchangeBytes[];
  /** All requests in one segment and all answers in one (HTTP pipelining). */
  pipelined?: boolean;
}

/** Bytes of a string taken as Latin-1: "\xff" is the byte 0xff, so any byte sequence can be written. */
export function latin1Bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/** A string whose Latin-1 bytes are the UTF-8 encoding of `text` (for bidi marks and other non-Latin-1 characters). */
function utf8AsLatin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

const PATHS = [
  '/latest/meta-data/',
  '/latest/meta-data/instance-id',
  '/latest/meta-data/ami-id',
  '/latest/meta-data/iam/security-credentials/',
  '/latest/meta-data/iam/security-credentials/fuzz-role',
  '/latest/dynamic/instance-identity/document',
  '/latest/user-data',
  '/',
];
const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/fuzz-role';
const USER_AGENTS = ['curl/8.5.0', 'Wget/1.21.3', 'aws-sdk-js/3.1164.0 os/linux', 'Boto3/1.34.0 Python/3.11', 'python-requests/2.31', 'Go-http-client/1.1'];
const TERMINAL_CONTROLS = [
  '\x1b[31m',
  '\x1b[2J\x1b[H',
  '\x1b]0;pwned\x07',
  '\x1b]8;;http://evil/\x1b\\',
  '\x9b31m',
  '\x07',
  '\x08\x08\x08',
  '\r',
  '\x7f',
  '\x00',
  utf8AsLatin1('\u202e'),
  utf8AsLatin1('\u2066'),
  utf8AsLatin1('\u0085'),
  utf8AsLatin1('\u009b1m'),
];

const CREDENTIALS_JSON = JSON.stringify(
  {
    Code: 'Success',
    LastUpdated: '2024-01-01T00:00:00Z',
    Type: 'AWS-HMAC',
    AccessKeyId: FUZZ_CANARY.accessKeyId,
    SecretAccessKey: FUZZ_CANARY.secretAccessKey,
    Token: FUZZ_CANARY.sessionToken,
    Expiration: '2030-01-01T00:00:00Z',
  },
  null,
  2,
);

type Eol = '\r\n' | '\n' | '\r' | '\r\r\n';

/** A message head: start line, headers, blank line, all with line end `eol`. */
function head(startLine: string, headers: Array<[string, string]>, eol: Eol = '\r\n'): string {
  return `${startLine}${eol}${headers.map(([n, v]) => `${n}: ${v}${eol}`).join('')}${eol}`;
}

function request(method: string, target: string, headers: Array<[string, string]>, body = ''): Uint8Array {
  return latin1Bytes(head(`${method} ${target} HTTP/1.1`, [['Host', '169.254.169.254'], ...headers]) + body);
}

function response(status: number, reason: string, body: string, headers: Array<[string, string]> = []): Uint8Array {
  return latin1Bytes(head(`HTTP/1.1 ${status} ${reason}`, [['Server', 'EC2ws'], ['Content-Length', String(Buffer.byteLength(body, 'latin1'))], ...headers]) + body);
}

const tokenAnswer = (): Uint8Array => response(200, 'OK', FUZZ_CANARY.token, [['X-aws-ec2-metadata-token-ttl-seconds', '21600']]);
const credentialsAnswer = (): Uint8Array => response(200, 'OK', CREDENTIALS_JSON);
const textAnswer = (rng: Prng): Uint8Array => response(200, 'OK', rng.pick(['i-0123456789abcdef0', 'ami-0abcdef1234567890', 'fuzz-role', '']));

function userAgent(rng: Prng): [string, string] {
  return ['User-Agent', rng.pick(USER_AGENTS)];
}

function tokenHeader(): [string, string] {
  return ['X-aws-ec2-metadata-token', FUZZ_CANARY.token];
}

function secretHeader(rng: Prng): [string, string] {
  return rng.pick<[string, string]>([
    ['Authorization', `Bearer ${FUZZ_CANARY.bearer}`],
    ['Authorization', `Basic ${FUZZ_CANARY.basic}`],
    ['authorization', `AWS4-HMAC-SHA256 Credential=${FUZZ_CANARY.accessKeyId}/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${FUZZ_CANARY.signature}`],
    ['Cookie', `session=${FUZZ_CANARY.cookie}; theme=dark`],
    ['COOKIE', `a=1; sid=${FUZZ_CANARY.cookie}`],
    ['Proxy-Authorization', `Basic ${FUZZ_CANARY.proxy}`],
    ['X-aws-ec2-metadata-token', FUZZ_CANARY.token],
    ['x-AWS-EC2-Metadata-TOKEN', FUZZ_CANARY.token],
  ]);
}

function filler(rng: Prng, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[rng.int(alphabet.length)];
  return out;
}

/** The generators, one hostile idea each. */
export const HOSTILE_GENERATORS: readonly HostileGenerator[] = [
  {
    name: 'v1_get',
    make: (rng) => [{ request: request('GET', rng.pick(PATHS), [userAgent(rng), ['Accept', '*/*']]), response: textAnswer(rng) }],
  },
  {
    name: 'v2_token_then_credentials',
    make: (rng) => [
      { request: request('PUT', '/latest/api/token', [userAgent(rng), ['X-aws-ec2-metadata-token-ttl-seconds', String(rng.between(1, 21600))]]), response: tokenAnswer() },
      { request: request('GET', CREDENTIALS_PATH, [userAgent(rng), tokenHeader()]), response: credentialsAnswer() },
    ],
  },
  {
    name: 'bare_cr_token_in_user_agent',
    make: (rng) => {
      const ua = rng.pick(USER_AGENTS);
      const variants = [
        `GET ${CREDENTIALS_PATH} HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: ${ua}\rX-aws-ec2-metadata-token: ${FUZZ_CANARY.token}\r\nAccept: */*\r\n\r\n`,
        `GET ${CREDENTIALS_PATH} HTTP/1.1\r\nUser-Agent: curl\rX-aws-ec2-metadata-token: ${FUZZ_CANARY.token}\r\n\r\n`,
        `GET ${CREDENTIALS_PATH} HTTP/1.1\rHost: 169.254.169.254\rUser-Agent: ${ua}\rX-aws-ec2-metadata-token: ${FUZZ_CANARY.token}\r\r\n\r\n`,
        `GET / HTTP/1.1\r\nUser-Agent: ${ua}\rAuthorization: Bearer ${FUZZ_CANARY.bearer}\rCookie: s=${FUZZ_CANARY.cookie}\r\n\r\n`,
      ];
      return [{ request: latin1Bytes(rng.pick(variants)), response: credentialsAnswer() }];
    },
  },
  {
    name: 'secret_after_unusual_break',
    make: (rng) => {
      // Header injection with a line break some servers honour and others do not: the secret lands in the User-Agent.
      const brk = rng.pick(['\x0b', '\x0c', '\x85', '\x00', '\r\t', '\x1b', '\n\t', '; ']);
      const secret = rng.pick([
        `X-aws-ec2-metadata-token: ${FUZZ_CANARY.token}`,
        `x-aws-ec2-metadata-token:${FUZZ_CANARY.token}`,
        `X-aws-ec2-metadata-token\t: ${FUZZ_CANARY.token}`,
        `Authorization: Bearer ${FUZZ_CANARY.bearer}`,
        `Authorization\t: Bearer ${FUZZ_CANARY.bearer}`,
        `Cookie: sid=${FUZZ_CANARY.cookie}`,
        `Proxy-Authorization: Basic ${FUZZ_CANARY.proxy}`,
        `AccessKeyId=${FUZZ_CANARY.accessKeyId} SecretAccessKey=${FUZZ_CANARY.secretAccessKey}`,
      ]);
      return [{ request: latin1Bytes(`GET ${rng.pick(PATHS)} HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: ${rng.pick(USER_AGENTS)}${brk}${secret}\r\n\r\n`), response: textAnswer(rng) }];
    },
  },
  {
    name: 'mixed_line_ends',
    make: (rng) => {
      const eols: Eol[] = ['\r\n', '\n', '\r', '\r\r\n'];
      const lines = [`GET ${rng.pick(PATHS)} HTTP/1.1`, 'Host: 169.254.169.254', `User-Agent: ${rng.pick(USER_AGENTS)}`, `X-aws-ec2-metadata-token: ${FUZZ_CANARY.token}`, 'Accept: */*'];
      const text = lines.map((l) => l + rng.pick(eols)).join('') + rng.pick<string>(['\r\n', '\n', '\r\n\r\n']);
      return [{ request: latin1Bytes(text), response: textAnswer(rng) }];
    },
  },
  {
    name: 'control_bytes',
    make: (rng) => {
      const c = (): string => String.fromCharCode(rng.pick([0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0x7f]));
      return [
        {
          request: request('GET', `/latest/meta-data/${c()}${c()}iam${c()}`, [
            ['User-Agent', `agent${c()}${c()}/1.0${c()}`],
            ['X-Custom', `${c()}value${c()}`],
            tokenHeader(),
          ]),
          response: textAnswer(rng),
        },
      ];
    },
  },
  {
    name: 'non_utf8_bytes',
    make: (rng) => {
      const b = (): string => String.fromCharCode(rng.pick([0x80, 0x85, 0x9b, 0x9d, 0xa0, 0xad, 0xc3, 0xe2, 0xef, 0xfe, 0xff]));
      return [
        {
          request: request('GET', `/latest/meta-data/${b()}${b()}${b()}`, [['User-Agent', `bot${b()}${b()}\xc3\x28\xe2\x82${b()}`], tokenHeader()]),
          response: textAnswer(rng),
        },
      ];
    },
  },
  {
    name: 'terminal_escapes',
    make: (rng) => {
      const e = (): string => rng.pick(TERMINAL_CONTROLS);
      return [
        {
          request: request('GET', `/latest/meta-data/${e()}instance-id${e()}`, [['User-Agent', `${e()}curl/8.5.0${e()}${e()}`], ['X-aws-ec2-metadata-token', FUZZ_CANARY.token]]),
          response: textAnswer(rng),
        },
      ];
    },
  },
  {
    name: 'huge_header',
    make: (rng) => {
      const size = rng.pick([1000, 4000, 9000, 16_000, 17_000, 30_000]);
      return [
        {
          request: request('GET', CREDENTIALS_PATH, [userAgent(rng), ['X-Padding', filler(rng, size)], tokenHeader(), secretHeader(rng)]),
          response: credentialsAnswer(),
        },
      ];
    },
  },
  {
    // Long runs of secret-looking words and base64 in the fields that are printed: the scrubber must stay linear.
    name: 'scrubber_workout',
    make: (rng) => {
      const word = rng.pick(['token', 'Authorization', 'secret=', 'AQAE', 'aB3+', 'x:y@', 'Token?']);
      const long = word.repeat(Math.ceil(rng.pick([200, 2000, 8000, 15_000]) / word.length));
      return [
        { request: request('GET', `/latest/${long.slice(0, 4000)}`, [['User-Agent', long], tokenHeader()]), response: credentialsAnswer() },
      ];
    },
  },
  {
    name: 'many_headers',
    make: (rng) => {
      const count = rng.pick([20, 60, 99, 100, 101, 150, 400]);
      const headers: Array<[string, string]> = Array.from({ length: count }, (_, i) => [`X-H${i}`, filler(rng, rng.between(0, 20))]);
      headers.splice(rng.int(headers.length + 1), 0, tokenHeader());
      headers.splice(rng.int(headers.length + 1), 0, secretHeader(rng));
      return [{ request: request('GET', CREDENTIALS_PATH, [userAgent(rng), ...headers]), response: credentialsAnswer() }];
    },
  },
  {
    name: 'obs_fold',
    make: (rng) => {
      const variants = [
        `GET ${CREDENTIALS_PATH} HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token: ${FUZZ_CANARY.token.slice(0, 20)}\r\n ${FUZZ_CANARY.token.slice(20)}\r\n\r\n`,
        `GET ${CREDENTIALS_PATH} HTTP/1.1\r\nUser-Agent: curl/8.5.0\r\n X-aws-ec2-metadata-token: ${FUZZ_CANARY.token}\r\n\r\n`,
        `GET / HTTP/1.1\r\nAuthorization: Bearer\r\n\t${FUZZ_CANARY.bearer}\r\nUser-Agent: x\r\n\r\n`,
        `GET / HTTP/1.1\r\nCookie: a=1;\r\n  sid=${FUZZ_CANARY.cookie}\r\n\r\n`,
        `GET / HTTP/1.1\r\n X-aws-ec2-metadata-token: ${FUZZ_CANARY.token}\r\nUser-Agent: fold-first\r\n\r\n`,
      ];
      return [{ request: latin1Bytes(rng.pick(variants)), response: credentialsAnswer() }];
    },
  },
  {
    name: 'secret_headers',
    make: (rng) => [
      { request: request('GET', rng.pick(PATHS), [userAgent(rng), secretHeader(rng), secretHeader(rng), secretHeader(rng)]), response: textAnswer(rng) },
    ],
  },
  {
    name: 'request_body_credentials',
    make: (rng) => {
      const chunked = rng.chance(0.4);
      const body = chunked ? `${CREDENTIALS_JSON.length.toString(16)}\r\n${CREDENTIALS_JSON}\r\n0\r\n\r\n` : CREDENTIALS_JSON;
      const framing: [string, string] = chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(CREDENTIALS_JSON.length)];
      return [
        { request: request(rng.pick(['PUT', 'POST']), rng.pick(['/latest/api/token', '/']), [userAgent(rng), framing], body), response: response(405, 'Method Not Allowed', '') },
        { request: request('GET', '/latest/meta-data/', [userAgent(rng)]), response: textAnswer(rng) },
      ];
    },
  },
  {
    name: 'response_body_variants',
    make: (rng) => {
      const answers = [
        credentialsAnswer(),
        latin1Bytes(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${CREDENTIALS_JSON.length.toString(16)}\r\n${CREDENTIALS_JSON}\r\n0\r\n\r\n`),
        latin1Bytes(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${FUZZ_CANARY.token.length}\r\n\r\n${FUZZ_CANARY.token}`),
        latin1Bytes(`HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n`),
        latin1Bytes(`HTTP/1.0 200 OK\r\n\r\n${CREDENTIALS_JSON}`),
        latin1Bytes(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n${CREDENTIALS_JSON}`),
        latin1Bytes(`HTTP/1.1 200 ${FUZZ_CANARY.token}\r\nX-aws-ec2-metadata-token: ${FUZZ_CANARY.token}\r\nContent-Length: 0\r\n\r\n`),
      ];
      return [
        { request: request('GET', CREDENTIALS_PATH, [userAgent(rng), tokenHeader()]), response: rng.pick(answers) },
        { request: request('GET', '/latest/meta-data/', [userAgent(rng)]), response: textAnswer(rng) },
      ];
    },
  },
  {
    name: 'keep_alive',
    make: (rng) =>
      Array.from({ length: rng.between(2, 6) }, () =>
        rng.chance(0.5)
          ? { request: request('GET', CREDENTIALS_PATH, [userAgent(rng), tokenHeader()]), response: credentialsAnswer() }
          : { request: request('PUT', '/latest/api/token', [['X-aws-ec2-metadata-token-ttl-seconds', '60']]), response: tokenAnswer() },
      ),
  },
  {
    name: 'pipelined',
    pipelined: true,
    make: (rng) =>
      Array.from({ length: rng.between(2, 8) }, (_, i) => ({
        request: request(i % 3 === 2 ? 'HEAD' : 'GET', rng.pick(PATHS), [userAgent(rng), tokenHeader()]),
        response: i % 3 === 2 ? latin1Bytes('HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n') : credentialsAnswer(),
      })),
  },
  {
    name: 'secret_in_target',
    make: (rng) => {
      const targets = [
        `http://fuzz:${FUZZ_CANARY.bearer}@169.254.169.254/latest/meta-data/`,
        `/latest/meta-data/?X-aws-ec2-metadata-token=${FUZZ_CANARY.token}`,
        `/latest/meta-data/#${FUZZ_CANARY.token}`,
        `http://169.254.169.254/latest/api/token?cookie=${FUZZ_CANARY.cookie}`,
      ];
      return [{ request: request('GET', rng.pick(targets), [userAgent(rng)]), response: textAnswer(rng) }];
    },
  },
  {
    name: 'token_header_variants',
    make: (rng) => {
      const variants: Array<Array<[string, string]>> = [
        [['x-AWS-ec2-METADATA-token', FUZZ_CANARY.token]],
        [tokenHeader(), tokenHeader()],
        [['X-aws-ec2-metadata-token ', FUZZ_CANARY.token]],
        [['X-aws-ec2-metadata-token', `\t${FUZZ_CANARY.token}   `]],
        [['X-aws-ec2-metadata-token', '']],
        [['X-aws-ec2-metadata-token-ttl-seconds', FUZZ_CANARY.token]],
      ];
      return [{ request: request('GET', CREDENTIALS_PATH, [userAgent(rng), ...rng.pick(variants)]), response: credentialsAnswer() }];
    },
  },
  {
    name: 'smuggling',
    make: (rng) => {
      const inner = `GET /smuggled HTTP/1.1\r\nUser-Agent: ${FUZZ_CANARY.token}\r\n\r\n`;
      const variants: Array<Array<[string, string]>> = [
        [['Content-Length', String(inner.length)], ['Transfer-Encoding', 'chunked']],
        [['Content-Length', String(inner.length)], ['Content-Length', '0']],
        [['Transfer-Encoding', 'gzip, chunked']],
        [['Content-Length', String(inner.length)]],
      ];
      return [
        { request: request('POST', '/', [userAgent(rng), ...rng.pick(variants)], inner), response: response(405, 'Method Not Allowed', '') },
      ];
    },
  },
  {
    name: 'garbage',
    make: (rng) => [{ request: rng.bytes(rng.between(1, 300)), response: rng.chance(0.5) ? rng.bytes(rng.between(1, 300)) : textAnswer(rng) }],
  },
];
