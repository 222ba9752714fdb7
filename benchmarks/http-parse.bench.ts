// Hot path: request and response bytes → parsed heads (bodies skipped).
import { bench, describe } from 'vitest';
import { RequestParser } from '../src/http/request.js';
import { ResponseParser } from '../src/http/response.js';

const enc = new TextEncoder();
const REQ = enc.encode(`GET /latest/meta-data/iam/security-credentials/role HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: aws-sdk-js/3\r\nX-aws-ec2-metadata-token: ${'T'.repeat(56)}\r\n\r\n`);
const BODY = JSON.stringify({ Code: 'Success', AccessKeyId: 'ASIA', SecretAccessKey: 'x'.repeat(40), Token: 'y'.repeat(900) });
const RES = enc.encode(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
const SPLIT = [REQ.subarray(0, 40), REQ.subarray(40, 90), REQ.subarray(90)];

describe('http parse', () => {
  bench('request, one segment', () => {
    new RequestParser().push(REQ);
  });
  bench('request, three segments', () => {
    const p = new RequestParser();
    for (const part of SPLIT) p.push(part);
  });
  bench('credentials response (1 KiB body skipped)', () => {
    new ResponseParser(() => 'GET').push(RES);
  });
});
