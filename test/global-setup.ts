// CI sets IMDS_SNIFF_REQUIRE_E2E=1: then the end-to-end suites must run, not skip, or the run fails here.
// Also gives the run tracefs at /sys/kernel/tracing, as every systemd host has it (sys-kernel-tracing.mount).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { testbedPrerequisites } from '../src/testbed/prerequisites.js';
import { tracefsMountPoints } from '../src/attribute/tracefs/mount.js';

const TRACING = '/sys/kernel/tracing';

/**
 * Some CI machines boot without tracefs mounted. The agent copes (it mounts a private one),
 * but then that private mount shows in every `ip netns exec` child's mount table, which is
 * not what an EC2 host looks like. Mount it where systemd would, and only for this run.
 */
function mountTracefsLikeSystemd(): (() => void) | null {
  if (process.getuid?.() !== 0 || !existsSync(TRACING)) return null;
  if (tracefsMountPoints(readFileSync('/proc/self/mounts', 'utf8')).includes(TRACING)) return null;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACING], { stdio: 'ignore' });
  } catch {
    return null; // the tests that need it say so
  }
  return () => {
    try {
      execFileSync('umount', [TRACING], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', TRACING], { stdio: 'ignore' });
    }
  };
}

export default function setup(): () => void {
  const unmount = mountTracefsLikeSystemd();
  if (process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1') {
    const prereq = testbedPrerequisites();
    if (!prereq.ok) {
      unmount?.();
      throw new Error(`IMDS_SNIFF_REQUIRE_E2E=1 but the end-to-end tests would be skipped: ${prereq.reason ?? prereq.missing.join(', ')}`);
    }
  }
  return () => unmount?.();
}
