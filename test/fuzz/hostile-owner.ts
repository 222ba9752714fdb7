// Fuzz harness: a SocketOwnerFinder that answers every connection with a hostile process — terminal
// controls and bidi marks in its names, canary secrets on its command line — as any local process may be.

import type { ProcessInfo, SocketKey, SocketOwnerFinder } from '../../src/attribute/types.js';
import { FUZZ_CANARY } from './canaries.js';

const COMMS = ['curl', 'evil\u001b[31m', 'x\u202egnp.exe', 'line\nverdict: safe', 'tab\tname', '\u009bcsi', 'bell\u0007', 'n'.repeat(80)];
const EXES = ['/usr/bin/curl', '/tmp/\u001b]0;title\u0007evil', '/opt/\u2066bidi\u2069/bin/app', '/usr/bin/python3.11', null];
const USERS = ['root', 'evil\u001b[0m', 'svc\r\nforged', null];
const CONTAINERS = [null, null, `abc\u001b[31m${'0'.repeat(61)}`, '0123456789abcdef'.repeat(4)];
const CMDLINES: Array<string[] | null> = [
  ['curl', '-s', '-H', `X-aws-ec2-metadata-token: ${FUZZ_CANARY.token}`, 'http://169.254.169.254/latest/meta-data/'],
  ['aws', 'configure', 'set', 'aws_secret_access_key', FUZZ_CANARY.secretAccessKey],
  ['sh', '-c', `curl -H 'Authorization: Bearer ${FUZZ_CANARY.bearer}' http://169.254.169.254/`],
  ['python3', 'app.py', '--token', FUZZ_CANARY.token, `--password=${FUZZ_CANARY.cookie}`],
  ['node', 'x.js', `AWS_SECRET_ACCESS_KEY=${FUZZ_CANARY.secretAccessKey}`, `AWS_SESSION_TOKEN=${FUZZ_CANARY.sessionToken}`],
  ['curl', '-A', 'ua\u001b[2J\u001b[Hclear', '--cookie', `sid=${FUZZ_CANARY.cookie}`, 'http://169.254.169.254/'],
  ['app', `--access-key-id=${FUZZ_CANARY.accessKeyId}`, '\u202eevil'],
  null,
];

/** A number from a string (FNV-1a): the same client always gets the same process, on every path. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function choose<T>(items: readonly T[], h: number, salt: number): T {
  return items[(h >>> salt) % items.length] as T;
}

/** The hostile process behind a client socket; deterministic in the socket's addresses. */
export function hostileProcess(key: SocketKey): ProcessInfo {
  const h = hash(`${key.srcIp}|${key.srcPort}`);
  return {
    pid: 1000 + (h % 30_000),
    ppid: 1,
    comm: choose(COMMS, h, 1),
    exe: choose(EXES, h, 4),
    cmdline: choose(CMDLINES, h, 7),
    uid: h % 2 === 0 ? 0 : 1000,
    user: choose(USERS, h, 10),
    ancestors: [{ pid: 1, comm: choose(COMMS, h, 13) }],
    netns: null,
    cgroup: `/system.slice/${choose(COMMS, h, 16)}.service`,
    containerId: choose(CONTAINERS, h, 19),
    nsPid: null,
    attribution: 'tracefs',
  };
}

/** Answers at once with `hostileProcess`, as a tracefs finder that saw the connect would. */
export class HostileOwnerFinder implements SocketOwnerFinder {
  readonly method = 'tracefs' as const;
  readonly failure = null;

  start(): Promise<void> {
    return Promise.resolve();
  }

  find(key: SocketKey): Promise<ProcessInfo> {
    return Promise.resolve(hostileProcess(key));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
