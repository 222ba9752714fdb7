// A "container" as Docker makes it: network namespace behind NAT *and* a cgroup named docker-<id>.scope.
// The agent must report the container id (and group the summary by it) from the process's real cgroup.

import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../../../src/testbed/agent-process.js';
import { runClient, testbedScript } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';

/** Is a cgroup v2 hierarchy in use on this host (/proc/mounts)? */
function hasCgroup2(): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'cgroup2');
}

const prereq = testbedPrerequisites();
const skip = !prereq.ok ? prereq.reason : !hasCgroup2() ? 'no cgroup v2 hierarchy mounted' : null;
const prefix = `imdssc${randomBytes(3).toString('hex')}`;
const CONTAINER_ID = randomBytes(32).toString('hex');

describe.skipIf(skip !== null)(skip === null ? 'container cgroup' : `container cgroup (skipped: ${skip})`, () => {
  let tb: Testbed;
  // `ip netns exec` remounts /sys, hiding /sys/fs/cgroup: mount the v2 hierarchy where the namespace sees it too.
  let mountPoint = '';
  let slice = '';
  let scope = '';

  beforeAll(async () => {
    tb = await createTestbed({ prefix, block: 34 });
    mountPoint = mkdtempSync(join(tmpdir(), 'imds-sniff-cgroup2-'));
    execFileSync('mount', ['-t', 'cgroup2', 'none', mountPoint]);
    slice = join(mountPoint, `${prefix}.slice`);
    scope = join(slice, `docker-${CONTAINER_ID}.scope`);
    mkdirSync(scope, { recursive: true });
  });

  afterAll(async () => {
    await tb?.destroy(); // kills what ran in the namespaces, so the cgroup is empty
    for (const dir of [scope, slice]) if (dir && existsSync(dir)) rmdirSync(dir);
    if (mountPoint) {
      execFileSync('umount', [mountPoint]);
      rmdirSync(mountPoint);
    }
    await destroyStaleTestbeds(prefix);
  });

  it('reports the container id of a process in a docker-<id>.scope cgroup', async () => {
    const agent = await AgentProcess.start(tb.nsName('host'), ['--no-identity']);
    // Join the cgroup, then become the client (exec keeps the pid): IMDSv1 from "inside the container".
    const script = `echo $$ > ${join(scope, 'cgroup.procs')} && exec "$0" "$@"`;
    const run = await runClient(tb, 'ctr', ['sh', '-c', script, process.execPath, testbedScript('token-client'), 'X-Not-A-Token: 1', '/latest/meta-data/instance-id']);
    expect(run.stdout).toBe('200');
    await agent.waitForRequests(1, 10_000, (e) => e.pid === run.pid);
    const exit = await agent.stop();
    const event = agent.requests.find((e) => e.pid === run.pid);
    expect(event).toMatchObject({ kind: 'v1', status: 200, comm: 'node', container_id: CONTAINER_ID, attribution: 'tracefs' });
    expect(event?.cgroup).toContain(`docker-${CONTAINER_ID}.scope`);
    expect(exit.summary?.verdict.v1_processes).toEqual([`node (container ${CONTAINER_ID.slice(0, 12)})`]);
  });
});
