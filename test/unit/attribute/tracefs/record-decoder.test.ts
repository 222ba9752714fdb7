import { describe, expect, it } from 'vitest';
import { parseEventFormat } from '../../../../src/attribute/tracefs/format.js';
import { createRecordDecoder } from '../../../../src/attribute/tracefs/record-decoder.js';
import { fixtureText } from '../fixtures.js';

const KERNEL = '6.18.44-fc-v1272';
const format = (rel: string): ReturnType<typeof parseEventFormat> => parseEventFormat(fixtureText('tracefs', KERNEL, 'events', rel, 'format'));
const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;
/** sched_process_fork as kernels before 6.x lay it out: the comms inline, not at a data_loc. */
const FORK_INLINE_COMMS = `name: sched_process_fork
ID: 300
format:
${COMMON}
\tfield:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:1;
\tfield:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:char child_comm[16];\toffset:28;\tsize:16;\tsigned:1;
\tfield:pid_t child_pid;\toffset:44;\tsize:4;\tsigned:1;
`;
/** A filename kept at a __rel_loc (Linux ≥ 5.18 allows it): the offset counts from the end of the field. */
const EXEC_REL_LOC = `name: sched_process_exec
ID: 301
format:
${COMMON}
\tfield:__rel_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;
`;

function record(id: number, pid: number, size: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt16LE(id, 0);
  b.writeInt32LE(pid, 4);
  fill(b);
  return b;
}

describe('createRecordDecoder', () => {
  const sockState = format('sock/inet_sock_set_state');

  it('reads fixed-size char arrays (older kernels) and __rel_loc strings', () => {
    const decode = createRecordDecoder({ sockState, fork: parseEventFormat(FORK_INLINE_COMMS), exec: parseEventFormat(EXEC_REL_LOC) });
    const fork = record(300, 10, 48, (b) => {
      b.write('bash', 8);
      b.writeInt32LE(10, 24);
      b.write('a-full-16-bytes!', 28); // no NUL: the whole array is the name
      b.writeInt32LE(11, 44);
    });
    expect(decode(fork, 0, 5n)).toMatchObject({ kind: 'fork', parentComm: 'bash', parentPid: 10, childComm: 'a-full-16-bytes!', childPid: 11 });
    const exec = record(301, 11, 40, (b) => {
      b.writeUInt32LE((14 << 16) | 8, 8); // 8 bytes after the field's end (12) → offset 20, 14 bytes
      b.writeInt32LE(11, 12);
      b.writeInt32LE(11, 16);
      b.write('/usr/bin/curl\0', 20);
    });
    expect(decode(exec, 1, 2_500_000_000n)).toMatchObject({ kind: 'exec', filename: '/usr/bin/curl', pid: 11, cpu: 1, timestamp: 2.5 });
  });

  it('a record shorter than its format, or a string pointing outside it, is skipped, not thrown', () => {
    const decode = createRecordDecoder({ sockState, exec: parseEventFormat(EXEC_REL_LOC) });
    expect(decode(record(sockState.id, 1, 12, () => {}), 0, 0n)).toBeNull();
    const outside = record(301, 1, 20, (b) => b.writeUInt32LE((50 << 16) | 4000, 8));
    expect(decode(outside, 0, 0n)).toBeNull();
    expect(decode(Buffer.alloc(3), 0, 0n)).toBeNull();
  });

  it('events it does not know decode to null', () => {
    const decode = createRecordDecoder({ sockState });
    expect(decode(record(9999, 1, 64, () => {}), 0, 0n)).toBeNull();
  });

  it('inet_sock_set_state: IPv4 from saddr/daddr, IPv6 from the v6 arrays', () => {
    const decode = createRecordDecoder({ sockState });
    const f = sockState.fields;
    const at = (name: string): number => f.get(name)?.offset ?? -1;
    const sock = (family: number): Buffer =>
      record(sockState.id, 77, 80, (b) => {
        b.writeUInt32LE(0x049fc0c0, at('skaddr'));
        b.writeUInt32LE(0xffff8881, at('skaddr') + 4);
        b.writeInt32LE(7, at('oldstate'));
        b.writeInt32LE(2, at('newstate'));
        b.writeUInt16LE(80, at('dport'));
        b.writeUInt16LE(family, at('family'));
        b.writeUInt16LE(6, at('protocol'));
        Buffer.from([10, 0, 2, 15]).copy(b, at('saddr'));
        Buffer.from([169, 254, 169, 254]).copy(b, at('daddr'));
        Buffer.from('fd000ec2000000000000000000000002', 'hex').copy(b, at('saddr_v6'));
        Buffer.from('fd000ec2000000000000000000000254', 'hex').copy(b, at('daddr_v6'));
      });
    expect(decode(sock(2), 0, 0n)).toMatchObject({ kind: 'sock-state', tid: 77, skaddr: 'ffff8881049fc0c0', family: 4, saddr: '10.0.2.15', daddr: '169.254.169.254', oldState: 7, newState: 2, dport: 80, protocol: 6 });
    expect(decode(sock(10), 0, 0n)).toMatchObject({ family: 6, saddr: 'fd00:ec2::2', daddr: 'fd00:ec2::254' });
    expect(decode(sock(1), 0, 0n)).toBeNull(); // AF_UNIX: not a TCP/IP socket
  });
});
