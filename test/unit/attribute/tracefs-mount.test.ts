import { describe, expect, it } from 'vitest';
import { isPrivateMount, privateMountOwner, tracefsMountPoints } from '../../../src/attribute/tracefs/mount.js';

describe('tracefsMountPoints', () => {
  it.each([
    ['host (real line)', 'nodev /sys/kernel/tracing tracefs rw,relatime 0 0\n', ['/sys/kernel/tracing']],
    ['under ip netns exec: only sysfs', 'probe-ns /sys sysfs rw,relatime 0 0\n', []],
    [
      'debugfs automount and an escaped space',
      'debugfs /sys/kernel/debug debugfs rw 0 0\ntracefs /sys/kernel/debug/tracing tracefs rw 0 0\nnodev /tmp/my\\040dir tracefs rw 0 0\n',
      ['/sys/kernel/debug/tracing', '/tmp/my dir'],
    ],
    ['empty', '', []],
  ])('%s', (_name, text, expected) => {
    expect(tracefsMountPoints(text)).toEqual(expected);
  });
});

describe('privateMountOwner', () => {
  it.each([
    ['/tmp/imds-sniff-tracefs-4242-AbC123', 4242],
    ['/var/tmp/imds-sniff-tracefs-7-x', 7],
    ['/sys/kernel/tracing', null],
    ['/tmp/imds-sniff-tracefs-XxKrNV', null], // the old unnamed form: not ours to judge
    ['/tmp/imds-sniff-tracefs-12-ab/sub', null],
  ])('%s → %s', (mountPoint, owner) => {
    expect(privateMountOwner(mountPoint)).toBe(owner);
  });
});

describe('isPrivateMount', () => {
  it.each([
    ['/tmp/imds-sniff-tracefs-4242-AbC123', true],
    ['/tmp/imds-sniff-tracefs-XxKrNV', true],
    ['/sys/kernel/tracing', false],
    ['/sys/kernel/debug/tracing', false],
  ])('%s → %s', (mountPoint, expected) => {
    expect(isPrivateMount(mountPoint)).toBe(expected);
  });
});
