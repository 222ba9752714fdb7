import { describe, expect, it } from 'vitest';
import { tracefsMountPoints } from '../../../src/attribute/tracefs/mount.js';

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
