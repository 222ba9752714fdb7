// Kernel address forms (/proc/net/tcp hex, tracepoint u32 words) read back as canonical text.

import { describe, expect, it } from 'vitest';
import { ipFromProcHex, ipv4FromHostWord } from '../../../src/attribute/kernel-address.js';

describe('ipFromProcHex', () => {
  it.each([
    ['0100007F', '127.0.0.1'],
    ['FEA9FEA9', '169.254.169.254'],
    ['0F02000A', '10.0.2.15'],
    ['00000000', '0.0.0.0'],
    ['00000000000000000000000001000000', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1'],
    ['C20E00FD000000000000000054020000', 'fd00:ec2::254'],
    ['C20E00FD000000000000000002000000', 'fd00:ec2::2'],
    ['0100007', null],
    ['ZZ00007F', null],
  ])('%s → %s', (hex, ip) => {
    expect(ipFromProcHex(hex)).toBe(ip);
  });

  it('reads words in order on a big-endian host', () => {
    expect(ipFromProcHex('7F000001', false)).toBe('127.0.0.1');
  });
});

describe('ipv4FromHostWord (tracepoint u32)', () => {
  it.each([
    [0x100007f, '127.0.0.1'],
    [0xf02000a, '10.0.2.15'],
    [0xfea9fea9, '169.254.169.254'],
  ])('%s → %s', (word, ip) => {
    expect(ipv4FromHostWord(word)).toBe(ip);
  });
});
