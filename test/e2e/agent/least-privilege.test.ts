// The agent with exactly the privileges the systemd unit leaves it (systemd/imds-sniff.service):
// root's uid, CapabilityBoundingSet's capabilities and nothing else, no new privileges, tracefs
// mounted beforehand as the unit's ExecStartPre does. It must attribute other users' processes:
// short-lived curls from the host and a container, a live process with its exe, user and network
// namespace, and a
// connection older than the agent. Without each capability the part that needs it is lost, which
// is the reason the unit keeps it.

import { randomBytes } from 'node:crypto';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveAgentScript } from '../../../src/testbed/agent-process.js';
import { runClient } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { scaledMs } from '../../../src/testbed/time-scale.js';
import type { TestbedNamespace } from '../../../src/testbed/testbed-layout.js';
import { agentSuite } from '../../helpers/agent-suite.js';
import { expectOneLineError } from '../../helpers/run-cli.js';
import { setprivFor, unitCapabilities } from '../../helpers/systemd-unit.js';

const prereq = testbedPrerequisites();
const title = prereq.ok ? 'the agent with the systemd unit’s privileges' : `the agent with the systemd unit’s privileges (skipped: ${prereq.reason ?? ''})`;
const prefix = `imdslp${randomBytes(3).toString('hex')}`;
const WAIT_MS = scaledMs(10_000);
const NOBODY = 65534;
const CAPS = unitCapabilities();
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const without = (cap: string) => CAPS.filter((c) => c !== cap);

/**
 * Runs in the namespace's own mount namespace (`ip netns exec` makes one): tracefs is mounted
 * there, as the unit's ExecStartPre does on the host, then the agent gets only `caps`.
 */
function wrapperWith(caps: readonly string[]): string[] {
  return ['sh', '-c', 'mount -t tracefs tracefs /sys/kernel/tracing && exec "$@"', 'sh', ...setprivFor(caps)];
}

/** A node process of nobody's that GETs `path` on one keep-alive connection, once at start and once per `get()`, and stays alive. */
class NobodyPoller {
  private answers = 0;
  private wake = (): void => {};
  readonly child: ChildProcess;

  constructor(suite: ReturnType<typeof agentSuite>, readonly path: string) {
    const script = `
      const http = require('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = () => http.get({ host: '169.254.169.254', path: ${JSON.stringify(path)}, agent }, (res) => {
        res.resume();
        res.on('end', () => process.stdout.write(res.statusCode + '\\n'));
      });
      get();
      require('node:readline').createInterface({ input: process.stdin }).on('line', get).on('close', () => agent.destroy());`;
    this.child = suite.tb.spawn('host', [...AS_NOBODY, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.answers += d.toString().trim().split('\n').length;
      this.wake();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves once `n` answers arrived. */
  answered(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => this.answers >= n && resolve();
      this.wake();
    });
  }

  get(): void {
    this.child.stdin?.write('go\n');
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe.skipIf(!prereq.ok)(title, () => {
  const suite = agentSuite({ prefix, block: 39 });
  const start = (caps: readonly string[]) => suite.startAgent([], wrapperWith(caps));

  /** The one event of a poller started after an agent with `caps`. */
  async function liveProcess(caps: readonly string[], path: string) {
    const agent = await start(caps);
    const poller = new NobodyPoller(suite, path);
    try {
      await poller.answered(1);
      await agent.waitForRequests(1, WAIT_MS, (e) => e.path === path);
      return { event: agent.requests.find((e) => e.path === path), pid: poller.pid };
    } finally {
      poller.kill();
    }
  }

  /** The event of a keep-alive connection of nobody's, opened before an agent with `caps` started. */
  async function olderConnection(caps: readonly string[], path: string) {
    const poller = new NobodyPoller(suite, path);
    try {
      await poller.answered(1);
      const agent = await start(caps);
      poller.get();
      await poller.answered(2);
      await agent.waitForRequests(1, WAIT_MS, (e) => e.path === path);
      return { event: agent.requests.find((e) => e.path === path), pid: poller.pid };
    } finally {
      poller.kill();
    }
  }

  it.each([
    ['host', '/latest/meta-data/instance-type'],
    ['ctr', '/latest/meta-data/local-ipv4'],
  ] as const)('attributes 25 short-lived curls of another user from the %s', async (ns: TestbedNamespace, path) => {
    const agent = await start(CAPS);
    expect(agent.startEvent?.attribution_method).toBe('tracefs');
    const runs = await Promise.all(
      Array.from({ length: 25 }, async () => {
        const run = await runClient(suite.tb, ns, [...AS_NOBODY, 'curl', '-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code} %{local_port}', `http://169.254.169.254${path}`]);
        const [status, port] = run.stdout.split(' ');
        expect(status).toBe('200');
        return { pid: run.pid, port: Number(port) };
      }),
    );
    await agent.waitForRequests(25, WAIT_MS, (e) => e.path === path);
    const pidByPort = new Map(runs.map((r) => [r.port, r.pid]));
    const events = agent.requests.filter((e) => e.path === path);
    expect(events.map((e) => [e.pid === pidByPort.get(e.src_port), e.comm])).toEqual(Array.from({ length: 25 }, () => [true, 'curl']));
  });

  it('names a live process of another user with its exe and user', async () => {
    const { event, pid } = await liveProcess(CAPS, '/latest/meta-data/ami-launch-index');
    expect([event?.pid, event?.exe, event?.uid, event?.user, event?.attribution]).toEqual([pid, process.execPath, NOBODY, 'nobody', 'tracefs']);
    expect(event?.netns).toEqual(expect.any(Number));
  });

  it('finds the process of another user’s connection opened before it started, through /proc', async () => {
    const { event, pid } = await olderConnection(CAPS, '/latest/meta-data/hostname');
    expect([event?.pid, event?.uid, event?.attribution]).toEqual([pid, NOBODY, 'procfs']);
  });

  it('without CAP_SYS_PTRACE names that live process but loses its network namespace', async () => {
    const { event, pid } = await liveProcess(without('sys_ptrace'), '/latest/meta-data/local-hostname');
    // The exe still comes from the trace's exec record; /proc/<pid>/ns/net and exe are closed to it,
    // so its network namespace is lost and the process reads as already gone.
    expect([event?.pid, event?.uid, event?.exe, event?.netns, event?.attribution]).toEqual([pid, NOBODY, process.execPath, null, 'exited']);
  });

  it('without CAP_DAC_READ_SEARCH cannot find the older connection’s process', async () => {
    const { event } = await olderConnection(without('dac_read_search'), '/latest/meta-data/ami-id');
    expect([event?.pid, event?.attribution]).toEqual([null, 'unknown']);
  });

  it('without CAP_NET_RAW cannot capture, and says so in one line', () => {
    const r = spawnSync('ip', ['netns', 'exec', suite.tb.nsName('host'), ...wrapperWith(without('net_raw')), process.execPath, resolveAgentScript(), '--duration', '1s', '--no-identity'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(4);
    expectOneLineError(r.stderr, /CAP_NET_RAW/);
  });
});
