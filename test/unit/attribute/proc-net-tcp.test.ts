import { describe, expect, it } from 'vitest';
import { parseProcNetTcp, parseProcNetTcpLine } from '../../../src/attribute/proc-net-tcp.js';
import { fixtureText } from './fixtures.js';

describe('parseProcNetTcpLine (real lines)', () => {
  it.each([
    [
      'v4 listener',
      '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 635 1 00000000ea171461 100 0 0 10 0',
      { local: { ip: '0.0.0.0', port: 2024 }, remote: { ip: '0.0.0.0', port: 0 }, state: 10, uid: 0, inode: 635 },
    ],
    [
      'v4 loopback client',
      '   1: 0100007F:A7C6 0100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 8219 2 00000000ff2fae7e 20 0 0 10 -1',
      { local: { ip: '127.0.0.1', port: 42950 }, remote: { ip: '127.0.0.1', port: 80 }, state: 1, inode: 8219 },
    ],
    [
      'v4 IMDS client in a netns',
      '   2: 0F02000A:A78B FEA9FEA9:0050 01 00000000:00000000 00:00000000 00000000     0        0 8395 2 00000000933913e4 20 0 0 10 -1',
      { local: { ip: '10.0.2.15', port: 42891 }, remote: { ip: '169.254.169.254', port: 80 }, inode: 8395 },
    ],
    [
      'v6 IMDS client',
      '   2: C20E00FD000000000000000002000000:B5C7 C20E00FD000000000000000054020000:0050 01 00000000:00000000 00:00000000 00000000     0        0 8396 2 00000000027b6bc0 20 0 0 10 -1',
      { local: { ip: 'fd00:ec2::2', port: 46535 }, remote: { ip: 'fd00:ec2::254', port: 80 }, inode: 8396 },
    ],
    [
      'v4-mapped in tcp6',
      '   5: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:A7C6 01 00000000:00000000 00:00000000 00000000     0        0 8221 1 0000000079769d49 20 0 0 10 -1',
      { local: { ip: '::ffff:127.0.0.1', port: 80 }, remote: { ip: '::ffff:127.0.0.1', port: 42950 }, inode: 8221 },
    ],
    [
      'TIME_WAIT (short line, inode 0)',
      '   2: 00000000000000000000000001000000:0050 00000000000000000000000001000000:EAFE 06 00000000:00000000 03:000007EE 00000000     0        0 0 3 000000007ad78c2e',
      { local: { ip: '::1', port: 80 }, remote: { ip: '::1', port: 60158 }, state: 6, inode: 0 },
    ],
  ])('%s', (_name, line, expected) => {
    expect(parseProcNetTcpLine(line)).toMatchObject(expected);
  });

  it.each([
    ['header', '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'],
    ['empty', ''],
    ['truncated', '   1: 0100007F:A7C6'],
    ['bad address', '   1: 0100007:A7C6 0100007F:0050 01 0:0 0:0 0 0 0 1 2'],
  ])('rejects %s', (_name, line) => {
    expect(parseProcNetTcpLine(line)).toBeNull();
  });
});

describe('parseProcNetTcp (fixture files)', () => {
  it.each([
    ['loopback-tcp.txt', 2],
    ['loopback-tcp6.txt', 7],
    ['imds-netns-tcp.txt', 3],
    ['imds-netns-tcp6.txt', 3],
  ])('%s has %i rows', (file, rows) => {
    expect(parseProcNetTcp(fixtureText('net', file))).toHaveLength(rows);
  });
});
