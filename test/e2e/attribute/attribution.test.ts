// Attribution end to end: the tracefs and procfs finders against real curl/node clients in a namespace.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcfsOwnerFinder } from '../../../src/attribute/procfs-owner.js';
import { TracefsOwnerFinder } from '../../../src/attribute/tracefs-owner.js';
import type { ProcessInfo, SocketKey } from '../../../src/attribute/types.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import { exited, ReportingImds, type ServerConnection } from './reporting-imds.js';

const reason = testbedPrerequisites().reason;
const prefix = `imdsat${randomBytes(3).toString('hex')}`;
const TRACING = '/sys/kernel/tracing/instances';
const LOOKUP_TIMEOUT_MS = 2_000;

interface Lookup {
  info: ProcessInfo;
  ms: number;
}

const keyId = (k: SocketKey): string => `${k.family}|${k.srcPort}`;
const leftoverInstances = (pid: number): string[] =>
  readdirSync(TRACING).filter((n) => n.startsWith(`imds-sniff-${pid}-`));

describe.skipIf(reason !== null)(`attribution e2e over network namespaces${reason ? ` (skipped: ${reason})` : ''}`, () => {
  /** The testbed's host namespace is the client ("the instance"); ReportingImds answers in its imds namespace. */
  let tb: Testbed | undefined;
  let bed: ReportingImds | undefined;
  let tracefs: TracefsOwnerFinder | undefined;
  /** Every connection the IMDS server accepts is looked up at once, as the pipeline does at SYN time. */
  const lookups = new Map<string, Promise<Lookup>>();

  beforeAll(async () => {
    tb = await createTestbed({ prefix, block: 43, startMock: false });
    bed = await ReportingImds.start(tb);
    tracefs = new TracefsOwnerFinder();
    await tracefs.start();
    const finder = tracefs;
    bed.onConnection(({ key }: ServerConnection) => {
      const t0 = performance.now();
      lookups.set(keyId(key), finder.find(key, LOOKUP_TIMEOUT_MS).then((info) => ({ info, ms: performance.now() - t0 })));
    });
  });

  afterAll(async () => {
    await tracefs?.close();
    bed?.stop();
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
    expect(leftoverInstances(process.pid)).toEqual([]);
  });

  /** Starts a command in the client namespace; `ip netns exec` execs it in place, so child.pid is its pid. */
  const spawnInClient = (cmd: string, args: string[]): ChildProcess => tb!.spawn('host', [cmd, ...args], { stdio: 'pipe' });
  /** Inode of the client namespace (what ProcessInfo.netns should say for its processes). */
  const clientNetns = (): number => statSync(`/run/netns/${tb!.nsName('host')}`).ino;

  /** Runs one curl in the client namespace; returns its pid and what the finder said. */
  async function curl(urlPath: string, v6 = false): Promise<{ pid: number; lookup: Lookup }> {
    const b = bed!;
    const url = v6 ? `http://[fd00:ec2::254]${urlPath}` : `http://169.254.169.254${urlPath}`;
    const child = spawnInClient('curl', ['-sg', '-o', '/dev/null', '--max-time', '5', url]);
    const pid = child.pid!;
    expect(await exited(child)).toBe(0);
    const port = await b.requestPort(urlPath);
    const lookup = await lookups.get(`${v6 ? 6 : 4}|${port}`);
    if (!lookup) throw new Error(`no lookup for port ${port}`);
    return { pid, lookup };
  }

  it('a single short-lived curl: right pid and comm', async () => {
    const { pid, lookup } = await curl('/latest/meta-data/single');
    expect(lookup.info).toMatchObject({ pid, comm: 'curl' });
    expect(['tracefs', 'exited']).toContain(lookup.info.attribution);
    if (lookup.info.attribution === 'tracefs') {
      expect(lookup.info).toMatchObject({ exe: '/usr/bin/curl', netns: clientNetns(), user: 'root' });
      expect(lookup.info.cmdline?.at(-1)).toBe('http://169.254.169.254/latest/meta-data/single');
      expect(lookup.info.ancestors[0]?.pid).toBe(process.pid);
    }
  });

  it('a burst of 50 curls, 25 at a time: ≥ 99 % right pid and comm', async () => {
    // The curls are started by one shell inside the namespace (`curl … & echo $!`), not
    // spawned from this process: 25 spawn() calls would block the event loop the finder
    // runs on for ~50 ms, which an agent watching other people's processes never has.
    const results: { pid: number; lookup: Lookup }[] = [];
    for (let batch = 0; batch < 2; batch++) {
      const script =
        `for i in $(seq 0 24); do curl -s -o /dev/null --max-time 5 ` +
        `http://169.254.169.254/latest/meta-data/burst-${batch}-$i & echo "$i $!"; done; wait`;
      const shell = spawnInClient('bash', ['-c', script]);
      const pids = new Map<number, number>();
      createInterface({ input: shell.stdout! }).on('line', (l) => {
        const [i, pid] = l.split(' ').map(Number);
        pids.set(i ?? -1, pid ?? -1);
      });
      expect(await exited(shell)).toBe(0);
      for (let i = 0; i < 25; i++) {
        const port = await bed!.requestPort(`/latest/meta-data/burst-${batch}-${i}`);
        const lookup = await lookups.get(`4|${port}`);
        if (!lookup) throw new Error(`no lookup for port ${port}`);
        results.push({ pid: pids.get(i) ?? -1, lookup });
      }
    }
    const right = results.filter((r) => r.lookup.info.pid === r.pid && r.lookup.info.comm === 'curl').length;
    const byAttribution: Record<string, number> = {};
    for (const r of results) byAttribution[r.lookup.info.attribution] = (byAttribution[r.lookup.info.attribution] ?? 0) + 1;
    const ms = results.map((r) => r.lookup.ms).sort((a, b) => a - b);
    const pct = (p: number): string => (ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? NaN).toFixed(2);
    console.log(
      `burst: ${right}/${results.length} right pid+comm; attribution ${JSON.stringify(byAttribution)}; ` +
        `lookup latency ms p50 ${pct(50)} p95 ${pct(95)} max ${pct(100)}; stats ${JSON.stringify(tracefs!.stats)}`,
    );
    expect(right / results.length).toBeGreaterThanOrEqual(0.99);
  });

  it('20 sequential curls on a quiet machine: all right, full /proc snapshot, lookup latency', async () => {
    const script = `for i in $(seq 0 19); do curl -s -o /dev/null --max-time 5 http://169.254.169.254/latest/meta-data/seq-$i & echo "$i $!"; wait; done`;
    const shell = spawnInClient('bash', ['-c', script]);
    const pids = new Map<number, number>();
    createInterface({ input: shell.stdout! }).on('line', (l) => {
      const [i, pid] = l.split(' ').map(Number);
      pids.set(i ?? -1, pid ?? -1);
    });
    expect(await exited(shell)).toBe(0);
    const results: { pid: number; lookup: Lookup }[] = [];
    for (let i = 0; i < 20; i++) {
      const lookup = await lookups.get(`4|${await bed!.requestPort(`/latest/meta-data/seq-${i}`)}`);
      if (lookup) results.push({ pid: pids.get(i) ?? -1, lookup });
    }
    const ms = results.map((r) => r.lookup.ms).sort((a, b) => a - b);
    const full = results.filter((r) => r.lookup.info.attribution === 'tracefs').length;
    console.log(`sequential: ${full}/20 with a live /proc snapshot; lookup latency ms p50 ${ms[10]?.toFixed(2)} max ${ms[19]?.toFixed(2)}`);
    // The bar is 99 % over bursts; one sequential miss in 20 (a scheduling hiccup) is "unknown", never a wrong process.
    const right = results.filter((r) => r.lookup.info.pid === r.pid && r.lookup.info.comm === 'curl');
    expect(right.length, JSON.stringify(results.filter((r) => !right.includes(r)))).toBeGreaterThanOrEqual(19);
    expect(results.filter((r) => r.lookup.info.pid !== null && r.lookup.info.pid !== r.pid)).toEqual([]);
  });

  it('an IPv6 curl', async () => {
    const { pid, lookup } = await curl('/latest/meta-data/v6', true);
    expect(lookup.info).toMatchObject({ pid, comm: 'curl' });
  });

  it('a long-lived process: procfs finds it while its socket is open (tracefs too, incl. a v4-mapped AF_INET6 socket)', async () => {
    const b = bed!;
    const procfs = new ProcfsOwnerFinder();
    await procfs.start();
    for (const host of ['169.254.169.254', '::ffff:169.254.169.254']) {
      const connected = new Promise<SocketKey>((resolve) => {
        const off = b.onConnection(({ key }) => {
          off();
          resolve(key);
        });
      });
      const script = `require('net').connect(80, ${JSON.stringify(host)}); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
      const child = spawnInClient(process.execPath, ['-e', script]);
      try {
        const key = await connected;
        expect(key.family).toBe(4);
        const info = await procfs.find(key, LOOKUP_TIMEOUT_MS);
        expect(info).toMatchObject({ pid: child.pid, comm: 'node', netns: clientNetns(), attribution: 'procfs' });
        expect((await lookups.get(keyId(key)))?.info).toMatchObject({ pid: child.pid, comm: 'node', attribution: 'tracefs' });
      } finally {
        child.stdin?.end();
        await exited(child);
      }
    }
    await procfs.close();
  });

  describe('the agent itself running under `ip netns exec` (tracefs not mounted there)', () => {
    let buildDir: string | undefined;

    beforeAll(() => {
      // Compile just src/attribute (and what it imports) so this does not depend on other folders building.
      const root = fileURLToPath(new URL('../../..', import.meta.url));
      buildDir = mkdtempSync(path.join(tmpdir(), 'imds-attr-e2e-'));
      const files = readdirSync(path.join(root, 'src/attribute')).filter((f) => f.endsWith('.ts'));
      execFileSync(process.execPath, [
        path.join(root, 'node_modules/typescript/bin/tsc'),
        ...['--outDir', buildDir, '--rootDir', path.join(root, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext'],
        ...['--target', 'es2022', '--lib', 'es2023', '--strict', '--types', 'node', '--typeRoots', path.join(root, 'node_modules/@types'), '--skipLibCheck'],
        ...files.map((f) => path.join(root, 'src/attribute', f)),
      ]);
      writeFileSync(path.join(buildDir, 'package.json'), '{"type":"module"}');
      writeFileSync(
        path.join(buildDir, 'agent.mjs'),
        `import { TracefsOwnerFinder } from './attribute/tracefs-owner.js';
import { createInterface } from 'node:readline';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const finder = new TracefsOwnerFinder();
await finder.start();
out({ ev: 'ready', notes: finder.notes });
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const msg = JSON.parse(line);
  if (msg.close) { await finder.close(); out({ ev: 'closed' }); process.exit(0); }
  out({ ev: 'found', id: msg.id, info: await finder.find(msg.key, ${LOOKUP_TIMEOUT_MS}) });
});
// The test runner gone (killed, timed out): stop too, never an orphan holding a trace instance.
lines.on('close', async () => { await finder.close(); process.exit(0); });
`,
      );
    });

    afterAll(() => {
      if (buildDir) rmSync(buildDir, { recursive: true, force: true });
    });

    /** Starts the compiled agent (inside the client namespace or not) and talks JSON lines to it. */
    function startAgent(inNetns: boolean): {
      agent: ChildProcess;
      next: (ev: string) => Promise<Record<string, unknown>>;
      send: (msg: unknown) => void;
    } {
      const script = path.join(buildDir!, 'agent.mjs');
      const agent = inNetns ? spawnInClient(process.execPath, [script]) : spawn(process.execPath, [script]);
      agent.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
      const messages: Record<string, unknown>[] = [];
      const waiters: (() => void)[] = [];
      createInterface({ input: agent.stdout! }).on('line', (l) => {
        messages.push(JSON.parse(l) as Record<string, unknown>);
        waiters.splice(0).forEach((w) => w());
      });
      const next = async (ev: string): Promise<Record<string, unknown>> => {
        for (;;) {
          const i = messages.findIndex((x) => x.ev === ev);
          if (i >= 0) return messages.splice(i, 1)[0]!;
          await new Promise<void>((resolve) => waiters.push(resolve));
        }
      };
      return { agent, next, send: (msg) => agent.stdin?.write(`${JSON.stringify(msg)}\n`) };
    }

    it('mounts its own tracefs, attributes a curl in the namespace, cleans up on close', async () => {
      const b = bed!;
      const { agent, next, send } = startAgent(true);
      try {
        const ready = await next('ready');
        expect(String(ready.notes)).toMatch(/mounted tracefs at/);
        const connected = new Promise<SocketKey>((resolve) => {
          const off = b.onConnection(({ key }) => {
            off();
            resolve(key);
          });
        });
        const child = spawnInClient('curl', ['-s', '-o', '/dev/null', 'http://169.254.169.254/latest/meta-data/from-agent']);
        send({ id: 1, key: await connected });
        const found = (await next('found')).info as ProcessInfo;
        await exited(child);
        expect(found).toMatchObject({ pid: child.pid, comm: 'curl' });
        send({ close: true });
        await next('closed');
        expect(await exited(agent)).toBe(0);
        expect(leftoverInstances(agent.pid!)).toEqual([]);
      } finally {
        agent.kill('SIGKILL');
      }
    });

    it('an agent killed with SIGKILL takes its reader with it; the next start removes its instance', async () => {
      const { agent, next } = startAgent(false);
      await next('ready');
      expect(leftoverInstances(agent.pid!)).toHaveLength(1);
      agent.kill('SIGKILL');
      await exited(agent);
      const successor = new TracefsOwnerFinder();
      try {
        await successor.start();
        expect(leftoverInstances(agent.pid!)).toEqual([]);
      } finally {
        await successor.close();
      }
    });
  });
});
