import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TracefsOwnerFinder } from '../../../src/attribute/tracefs-owner.js';
import type { SockStateEvent, TraceEvent } from '../../../src/attribute/tracefs/trace-events.js';
import type { SocketKey } from '../../../src/attribute/types.js';
import { loadRecordedKernel, pageBatches, recordedKernels, ReplaySource } from '../../helpers/recorded-tracefs.js';
import { fakeHost } from './fixtures.js';

async function started(holdbackMs = 0): Promise<{ finder: TracefsOwnerFinder; source: ReplaySource }> {
  const source = new ReplaySource();
  const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source, reorderHoldbackMs: holdbackMs });
  await finder.start();
  return { finder, source };
}

const SKADDR = 'ffff8881049fc0c0';
/** A connect (CLOSE → SYN_SENT) and the transition that shows the port, as the raw reader decodes them (no comm, no tgid). */
function connection(tid: number, sport: number, over: Partial<SockStateEvent> = {}, t = 1): [SockStateEvent, SockStateEvent] {
  const base: SockStateEvent = {
    kind: 'sock-state',
    comm: null,
    tid,
    tgid: null,
    cpu: 0,
    timestamp: t,
    skaddr: SKADDR,
    oldState: 7,
    newState: 2,
    sport: 0,
    dport: 80,
    family: 4,
    protocol: 6,
    saddr: '10.0.2.15',
    daddr: '169.254.169.254',
    ...over,
  };
  return [base, { ...base, tid: 0, timestamp: t + 0.001, oldState: 2, newState: 1, sport }];
}
const imdsKey = (srcPort: number): SocketKey => ({ family: 4, srcIp: '10.0.2.15', srcPort, dstIp: '169.254.169.254', dstPort: 80 });
const fork = (parentPid: number, childPid: number, childComm: string, t = 0.5, cpu = 0): TraceEvent => ({
  kind: 'fork', comm: null, tid: parentPid, tgid: null, cpu, timestamp: t, parentComm: childComm, parentPid, childComm, childPid,
});
const exec = (pid: number, filename: string, t = 0.6): TraceEvent => ({ kind: 'exec', comm: null, tid: pid, tgid: null, cpu: 0, timestamp: t, filename, pid, oldPid: pid });

describe('TracefsOwnerFinder (recorded ring-buffer pages)', () => {
  for (const kernel of recordedKernels()) {
    it(`${kernel}: every recorded client is found by its 4-tuple, with pid and comm from the trace`, async () => {
      const rec = await loadRecordedKernel(kernel);
      const { finder, source } = await started(5);
      // Each CPU's pages in turn: the reorder buffer must put connects before their ports.
      for (const batch of pageBatches(rec)) source.push(...batch.events);
      for (const c of rec.clients) {
        const key: SocketKey = { family: c.family, srcIp: c.srcIp, srcPort: c.srcPort, dstIp: c.dstIp, dstPort: 80 };
        const found = await finder.find(key, 1_000);
        // The fake /proc has none of these processes: the exited path, named from the trace.
        expect({ label: c.label, pid: found.pid, comm: found.comm, attribution: found.attribution }).toEqual({
          label: c.label,
          // A thread's process is only known from /proc/<tid>/status; once gone, the thread id stands in.
          pid: c.tid,
          comm: c.comm,
          attribution: 'exited',
        });
      }
      expect(finder.stats.connects).toBe(rec.clients.length);
      expect(finder.stats.lostEvents).toBe(0);
      await finder.close();
    });
  }
});

describe('TracefsOwnerFinder (events)', () => {
  it('process alive at connect: the /proc snapshot, attribution tracefs', async () => {
    const { finder, source } = await started();
    source.push(...connection(2015, 37816));
    expect(await finder.find(imdsKey(37816), 100)).toMatchObject({
      pid: 2015,
      comm: 'curl',
      cmdline: ['curl', '-s', 'http://169.254.169.254/latest/meta-data/'],
      netns: 4026532451,
      containerId: expect.stringMatching(/^[0-9a-f]{64}$/),
      attribution: 'tracefs',
    });
    await finder.close();
  });

  it("a caller's later connect, made as it exits, is named from what /proc showed at its first (reused up to 10 s, past the old 1 s)", async () => {
    // The control CLI's last verification call: the process is gone before that connect is read.
    const procRoot = mkdtempSync(join(tmpdir(), 'imds-sniff-proc-'));
    try {
      cpSync(join(fakeHost.procRoot, '2015'), join(procRoot, '2015'), { recursive: true, verbatimSymlinks: true });
      const source = new ReplaySource();
      const finder = new TracefsOwnerFinder({ procRoot, hostRoot: fakeHost.hostRoot, openSource: async () => source, reorderHoldbackMs: 0 });
      await finder.start();
      source.push(...connection(2015, 37816));
      expect(await finder.find(imdsKey(37816), 100)).toMatchObject({ pid: 2015, attribution: 'tracefs' });
      rmSync(join(procRoot, '2015'), { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      source.push(...connection(2015, 37900, { skaddr: 'ffff8881049fd100' }, 2));
      expect(await finder.find(imdsKey(37900), 100)).toMatchObject({ pid: 2015, comm: 'curl', cmdline: ['curl', '-s', 'http://169.254.169.254/latest/meta-data/'] });
      await finder.close();
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });

  it('process already gone: pid from the trace, comm and exe from its exec, ppid from its fork', async () => {
    const { finder, source } = await started();
    source.push(fork(9212, 9277, 'bash'), exec(9277, '/usr/bin/curl'), ...connection(9277, 37816));
    expect(await finder.find(imdsKey(37816), 100)).toMatchObject({
      pid: 9277,
      ppid: 9212,
      comm: 'curl',
      exe: '/usr/bin/curl',
      netns: null,
      attribution: 'exited',
    });
    await finder.close();
  });

  it('resolves a find() made before the port is known as soon as the event arrives', async () => {
    const { finder, source } = await started();
    const [connect, established] = connection(2015, 37816);
    source.push(connect);
    const pending = finder.find(imdsKey(37816), 5_000);
    const t0 = Date.now();
    setTimeout(() => source.push(established), 20);
    expect((await pending).pid).toBe(2015);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await finder.close();
  });

  it('a thread that connected is reported as its process (Tgid from /proc/<tid>/status)', async () => {
    const { finder, source } = await started();
    source.push(fork(3985, 4026, 'python3'), ...connection(4026, 37198));
    expect(await finder.find(imdsKey(37198), 100)).toMatchObject({ pid: 3985, comm: 'python3' });
    await finder.close();
  });

  it("a gone thread's fork on another CPU arrives after its connect: named from the fork all the same", async () => {
    const { finder, source } = await started(20);
    source.push(...connection(4027, 37199, {}, 1));
    source.push(fork(3985, 4027, 'python3', 0.9, 1));
    expect(await finder.find(imdsKey(37199), 1_000)).toMatchObject({ pid: 4027, comm: 'python3', attribution: 'exited' });
    await finder.close();
  });

  it("an exec from another CPU's page that came after the reorder window still names the program it ran before connect", async () => {
    const { finder, source } = await started(5);
    // `ip netns exec ns curl …`: the shell's exec of ip, then ip's exec of curl on CPU 1, whose page is late.
    source.push(exec(9278, '/usr/sbin/ip', 0.3), ...connection(9278, 37817));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lateExec = exec(9278, '/usr/bin/curl', 0.8);
    const later = exec(9278, '/usr/bin/true', 1.5); // after the connect: not the connecting program
    source.push({ ...lateExec, cpu: 1 } as TraceEvent, { ...later, cpu: 1 } as TraceEvent);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await finder.find(imdsKey(37817), 1_000)).toMatchObject({ pid: 9278, comm: 'curl', exe: '/usr/bin/curl', attribution: 'exited' });
    await finder.close();
  });

  it('the port shows on another CPU and arrives first: the reorder buffer applies the connect before it', async () => {
    const { finder, source } = await started(20);
    const [connect, established] = connection(2015, 40000);
    source.push({ ...established, cpu: 1 });
    source.push(connect);
    expect(await finder.find(imdsKey(40000), 1_000)).toMatchObject({ pid: 2015 });
    await finder.close();
  });

  it('the port shows on another CPU and arrives after the holdback: the connect, read later, still joins it', async () => {
    const { finder, source } = await started(0);
    const [connect, established] = connection(2016, 40001);
    const found = finder.find(imdsKey(40001), 1_000);
    source.push({ ...established, cpu: 1 });
    await new Promise((r) => setTimeout(r, 30)); // the connect's CPU lags
    source.push(exec(2016, '/usr/bin/curl', 0.9), connect);
    expect(await found).toMatchObject({ pid: 2016, comm: 'curl' });
    expect(finder.stats.timedOut).toBe(0);
    await finder.close();
  });

  it('IPv6: the full addresses tell apart two namespaces using the same ports', async () => {
    const { finder, source } = await started();
    const v6 = (tid: number, saddr: string, skaddr: string): SockStateEvent[] =>
      connection(tid, 45000, { family: 6, saddr, daddr: 'fd00:ec2::254', skaddr });
    source.push(fork(1, 7001, 'curl'), fork(1, 7002, 'wget'), ...v6(7001, 'fd00:ec2::2', 'ffff0001'), ...v6(7002, 'fd00:17::2', 'ffff0002'));
    const key = (srcIp: string): SocketKey => ({ family: 6, srcIp, srcPort: 45000, dstIp: 'fd00:ec2::254', dstPort: 80 });
    expect(await finder.find(key('fd00:ec2::2'), 100)).toMatchObject({ pid: 7001, comm: 'curl' });
    expect(await finder.find(key('fd00:17::2'), 100)).toMatchObject({ pid: 7002, comm: 'wget' });
    await finder.close();
  });

  it('a container process that exits before /proc is read keeps its container id (cgroup_attach_task + fork)', async () => {
    const { finder, source } = await started();
    const id = 'c0ffee'.padEnd(64, '0');
    const cgroup = `/system.slice/docker-${id}.scope`;
    source.push(
      { kind: 'cgroup-attach', comm: null, tid: 6000, tgid: null, cpu: 0, timestamp: 0.1, root: 0, path: cgroup, pid: 6000 },
      fork(6000, 6001, 'sh', 0.2),
      fork(6001, 6002, 'sh', 0.3),
      exec(6002, '/usr/bin/curl', 0.4),
      ...connection(6002, 41000),
    );
    expect(await finder.find(imdsKey(41000), 100)).toMatchObject({ pid: 6002, comm: 'curl', cgroup, containerId: id, attribution: 'exited' });
    expect(finder.stats.trackedContainerTasks).toBe(3);
    await finder.close();
  });

  it('a move out of the container cgroup forgets it', async () => {
    const { finder, source } = await started();
    const id = 'abc'.padEnd(64, '1');
    source.push(
      { kind: 'cgroup-attach', comm: null, tid: 1, tgid: null, cpu: 0, timestamp: 0.1, root: 0, path: `/docker/${id}`, pid: 6100 },
      { kind: 'cgroup-attach', comm: null, tid: 1, tgid: null, cpu: 0, timestamp: 0.2, root: 0, path: '/user.slice', pid: 6100 },
      ...connection(6100, 41001),
    );
    expect(await finder.find(imdsKey(41001), 100)).toMatchObject({ pid: 6100, containerId: null });
    await finder.close();
  });

  describe('in-container pid (NSpid) of a client that is gone before its connect is read', () => {
    const ID = '41e499c7cbf3178feccc4d73fa585fbc0f9dbfccbb0e1139b8f19254be5e31fd';
    /** podman --cgroup-manager cgroupfs on a hybrid host: one attach per hierarchy (fixtures/proc/cgroup). */
    const attach = (pid: number, path: string, t: number): TraceEvent[] =>
      [0, 1, 4, 9].map((root) => ({ kind: 'cgroup-attach', comm: null, tid: 1, tgid: null, cpu: 0, timestamp: t, root, path, pid }) as TraceEvent);
    let procRoot = '';
    /** A /proc/<pid>/status the test can remove, as the kernel does at reaping. */
    const status = (pid: number, nsPids: number[]): void => {
      mkdirSync(join(procRoot, String(pid)), { recursive: true });
      writeFileSync(join(procRoot, String(pid), 'status'), `Name:\tsh\nTgid:\t${pid}\nPid:\t${pid}\nPPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t${nsPids.join('\t')}\n`);
    };
    const reap = (pid: number): void => rmSync(join(procRoot, String(pid)), { recursive: true, force: true });
    async function startedOn(): Promise<{ finder: TracefsOwnerFinder; source: ReplaySource }> {
      const source = new ReplaySource();
      const finder = new TracefsOwnerFinder({ procRoot, hostRoot: fakeHost.hostRoot, openSource: async () => source, reorderHoldbackMs: 0 });
      await finder.start();
      return { finder, source };
    }
    beforeEach(() => {
      procRoot = mkdtempSync(join(tmpdir(), 'imds-sniff-proc-'));
    });
    afterEach(() => rmSync(procRoot, { recursive: true, force: true }));

    it('read at fork (burst child of a container shell), kept after the process is reaped', async () => {
      const { finder, source } = await startedOn();
      status(7000, [7000, 1]);
      source.push(...attach(7000, `/libpod_parent/libpod-${ID}`, 0.1));
      status(7042, [7042, 42]);
      source.push(fork(7000, 7042, 'sh', 0.2));
      reap(7042);
      source.push(exec(7042, '/usr/bin/curl', 0.3), ...connection(7042, 42000));
      expect(await finder.find(imdsKey(42000), 100)).toMatchObject({ pid: 7042, comm: 'curl', containerId: ID, nsPid: 42, attribution: 'exited' });
      expect(finder.stats.containerPidsRead).toBe(2);
      await finder.close();
    });

    it("read at cgroup_attach_task (the container's own command is pid 1), kept after reaping", async () => {
      const { finder, source } = await startedOn();
      status(7100, [7100, 1]);
      source.push(fork(7099, 7100, 'runc:[2:INIT]', 0.05), ...attach(7100, `/libpod_parent/libpod-${ID}`, 0.1));
      reap(7100);
      source.push(exec(7100, '/usr/bin/curl', 0.3), ...connection(7100, 42001));
      expect(await finder.find(imdsKey(42001), 100)).toMatchObject({ pid: 7100, comm: 'curl', containerId: ID, nsPid: 1, attribution: 'exited' });
      await finder.close();
    });

    it("the container's first process: its own attach (CPU 1) read before the older fork from runc (CPU 0) — the fork undoes nothing", async () => {
      const { finder, source } = await startedOn();
      status(7150, [7150, 1]);
      source.push(...attach(7150, `/libpod_parent/libpod-${ID}`, 0.2).map((e) => ({ ...e, cpu: 1 })));
      source.push(fork(7149, 7150, 'runc:[2:INIT]', 0.1));
      reap(7150);
      source.push(exec(7150, '/usr/bin/curl', 0.3), ...connection(7150, 42005));
      expect(await finder.find(imdsKey(42005), 100)).toMatchObject({ pid: 7150, comm: 'curl', containerId: ID, nsPid: 1, attribution: 'exited' });
      await finder.close();
    });

    it("runc's init placed (CPU 0) after its forks arrived (CPU 1): the container's first process and its child still join, each with its in-container pid", async () => {
      const { finder, source } = await startedOn();
      status(7160, [7160, 1]);
      status(7161, [7161, 2]);
      // CPU 1's page first: stage-0 → stage-2 (pid 1 inside), which forks a helper; then CPU 0's page with the older attach.
      source.push(fork(7159, 7160, 'runc:[2:INIT]', 0.2, 1), fork(7160, 7161, 'sh', 0.25, 1));
      source.push(...attach(7159, `/libpod_parent/libpod-${ID}`, 0.1));
      reap(7160);
      reap(7161);
      source.push(exec(7160, '/usr/bin/curl', 0.3), ...connection(7160, 42006), exec(7161, '/usr/bin/wget', 0.35), ...connection(7161, 42007, { skaddr: 'ffff0007' }, 1.1));
      expect(await finder.find(imdsKey(42006), 100)).toMatchObject({ pid: 7160, comm: 'curl', containerId: ID, nsPid: 1, attribution: 'exited' });
      expect(await finder.find(imdsKey(42007), 100)).toMatchObject({ pid: 7161, comm: 'wget', containerId: ID, nsPid: 2, attribution: 'exited' });
      await finder.close();
    });

    it("a fork read before the fork that made its parent (two CPUs' pages) still passes the container down", async () => {
      const { finder, source } = await startedOn();
      status(7191, [7191, 1]);
      source.push(...attach(7189, `/libpod_parent/libpod-${ID}`, 0.1));
      // CPU 0's page first: stage-1 (7190) forks stage-2 (7191); CPU 1's page after: the older fork of 7190 by the placed 7189.
      source.push(fork(7190, 7191, 'runc:[2:INIT]', 0.3, 0));
      source.push(fork(7189, 7190, 'runc:[1:CHILD]', 0.2, 1));
      reap(7191);
      source.push(exec(7191, '/usr/bin/curl', 0.4), ...connection(7191, 42011));
      expect(await finder.find(imdsKey(42011), 100)).toMatchObject({ pid: 7191, comm: 'curl', containerId: ID, nsPid: 1, attribution: 'exited' });
      await finder.close();
    });

    it('an attach that arrives after the connect was applied still names the container of a client gone since', async () => {
      const { finder, source } = await startedOn();
      status(7181, [7181, 1]);
      // CPU 1's page, applied at once: runc's init forks the container's first process, which execs curl and connects.
      source.push(fork(7180, 7181, 'runc:[2:INIT]', 0.2, 1), exec(7181, '/usr/bin/curl', 0.3), ...connection(7181, 42010));
      reap(7181);
      // CPU 0's page, late: the older attach that placed runc's init in the container.
      source.push(...attach(7180, `/libpod_parent/libpod-${ID}`, 0.1));
      expect(await finder.find(imdsKey(42010), 100)).toMatchObject({ pid: 7181, comm: 'curl', containerId: ID, attribution: 'exited' });
      await finder.close();
    });

    it('a late attach reaches only forks made after it, and not a pid reused since by another process', async () => {
      const { finder, source } = await startedOn();
      status(7171, [7171]);
      status(7172, [7172]);
      // 7171 was forked before the attach (it stays outside); 7172 after it, but its pid was then reused by a fork from the host.
      source.push(fork(7170, 7171, 'sh', 0.05, 1), fork(7170, 7172, 'sh', 0.2, 1), fork(1, 7172, 'bash', 0.25, 1));
      source.push(...attach(7170, `/libpod_parent/libpod-${ID}`, 0.1));
      source.push(...connection(7171, 42008), ...connection(7172, 42009, { skaddr: 'ffff0009' }, 1.1));
      expect(await finder.find(imdsKey(42008), 100)).toMatchObject({ pid: 7171, containerId: null, nsPid: null });
      expect(await finder.find(imdsKey(42009), 100)).toMatchObject({ pid: 7172, containerId: null, nsPid: null });
      await finder.close();
    });

    it('from the status captured as the connect arrived when only that was left (stat already gone)', async () => {
      const { finder, source } = await startedOn();
      status(7200, [7200, 9]);
      source.push(...connection(7200, 42002));
      expect(await finder.find(imdsKey(42002), 100)).toMatchObject({ pid: 7200, comm: 'sh', nsPid: 9, attribution: 'exited' });
      await finder.close();
    });

    it('conmon (…/conmon) is not tracked, and a host process gets no container pid', async () => {
      const { finder, source } = await startedOn();
      status(7300, [7300]);
      source.push(...attach(7300, '/libpod_parent/conmon', 0.1), fork(7300, 7301, 'conmon', 0.2), ...connection(7301, 42003));
      expect(await finder.find(imdsKey(42003), 100)).toMatchObject({ pid: 7301, containerId: null, nsPid: null });
      expect(finder.stats.trackedContainerTasks).toBe(0);
      await finder.close();
    });

    it('a reused pid forked outside the container forgets the old in-container pid', async () => {
      const { finder, source } = await startedOn();
      status(7000, [7000, 1]);
      status(7400, [7400, 5]);
      source.push(...attach(7000, `/libpod_parent/libpod-${ID}`, 0.1), fork(7000, 7400, 'sh', 0.2));
      reap(7400);
      source.push(fork(1, 7400, 'bash', 0.3), ...connection(7400, 42004));
      expect(await finder.find(imdsKey(42004), 100)).toMatchObject({ pid: 7400, containerId: null, nsPid: null });
      await finder.close();
    });
  });

  it('times out with unknown, and close() releases pending lookups', async () => {
    const { finder, source } = await started();
    expect(await finder.find(imdsKey(1), 20)).toMatchObject({ pid: null, attribution: 'unknown' });
    const pending = finder.find(imdsKey(2), 60_000);
    await finder.close();
    expect((await pending).attribution).toBe('unknown');
    expect(source.closed).toBe(true);
    expect(finder.stats.timedOut).toBe(2);
  });

  it('counts lost events (a page that says how many, and one that only flags a loss)', async () => {
    const { finder, source } = await started();
    expect(finder.missedRecently()).toBe(false);
    source.push({ kind: 'lost', cpu: 1, count: 42 }, { kind: 'lost', cpu: 0, count: -1 });
    expect(finder.stats.lostEvents).toBe(43);
    expect(finder.missedRecently()).toBe(true); // a miss is now worth a /proc look
    await finder.close();
  });

  describe('a closed connection on a tuple is only trusted once the trace is read up to now', () => {
    /** A source with a trace_marker: each mark() delivers `next` (what the kernel had meanwhile), then the marker. */
    class MarkingSource extends ReplaySource {
      next: TraceEvent[] = [];
      marks = 0;
      mark(): void {
        this.marks++;
        const events: TraceEvent[] = [...this.next, { kind: 'mark', tid: process.pid, timestamp: 9 }];
        this.next = [];
        setImmediate(() => this.push(...events));
      }
    }
    const closed = (): TraceEvent[] => {
      const [connect, established] = connection(9277, 37816);
      return [exec(9277, '/usr/bin/curl'), connect, established, { ...established, timestamp: 2, oldState: 5, newState: 7 }];
    };
    const newer = (): TraceEvent[] => [exec(9300, '/usr/bin/curl', 3), ...connection(9300, 37816, { skaddr: 'ffff8881049fd000' }, 3)];
    const markingFinder = async (closedGraceMs?: number): Promise<{ finder: TracefsOwnerFinder; source: MarkingSource }> => {
      const source = new MarkingSource();
      const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source, reorderHoldbackMs: 0, closedGraceMs });
      await finder.start();
      return { finder, source };
    };

    it('the source port reused at once by a newer connect not read yet: the newer process, not the closed one', async () => {
      const { finder, source } = await markingFinder();
      source.push(...closed());
      source.next = newer();
      expect(await finder.find(imdsKey(37816), 500)).toMatchObject({ pid: 9300, comm: 'curl' });
      expect(source.marks).toBe(1);
      await finder.close();
    });

    it('no newer connect up to now: the closed connection answers (a client that already exited)', async () => {
      const { finder, source } = await markingFinder();
      source.push(...closed());
      expect(await finder.find(imdsKey(37816), 500)).toMatchObject({ pid: 9277, attribution: 'exited' });
      expect(source.marks).toBe(1);
      await finder.close();
    });

    describe('a capture that lags asks late: the grace runs from when its packet was captured', () => {
      // No grace at all, and the close applied before the question: only the packet's own age can keep it.
      const closedThenAsked = async (capturedAgoMs?: number) => {
        const { finder, source } = await markingFinder(0);
        source.push(...closed());
        await new Promise((resolve) => setImmediate(resolve));
        const until = performance.now() + 5;
        while (performance.now() < until); // the close is 5 ms old when the question comes
        const found = await finder.find(imdsKey(37816), 20, { midStream: false, capturedAgoMs });
        await finder.close();
        return found;
      };

      it('asked about now, a connection closed before is past its grace: unknown', async () => {
        expect(await closedThenAsked()).toMatchObject({ pid: null, attribution: 'unknown' });
      });

      it('its packet captured a second ago, before the close: the closed connection answers', async () => {
        expect(await closedThenAsked(1_000)).toMatchObject({ pid: 9277, comm: 'curl', attribution: 'exited' });
      });

      it('a packet said to be older than the index remembers (a clock step, a recorded time) counts as captured now', async () => {
        expect(await closedThenAsked(10 * 60_000)).toMatchObject({ pid: null, attribution: 'unknown' });
      });

      it('a socket that connected after the packet was captured is a newer one on the tuple, never named for it', async () => {
        // The kernel's clock reads 10 s; the connect on this tuple was at 9.5 s.
        const source = Object.assign(new ReplaySource(), { now: () => 10 });
        const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source, reorderHoldbackMs: 0 });
        await finder.start();
        source.push(exec(9500, '/usr/bin/curl', 9.4), ...connection(9500, 37900, {}, 9.5));
        // Captured 1 s ago (at 9 s), before that connect: its own socket is an older one.
        expect(await finder.find(imdsKey(37900), 20, { midStream: false, capturedAgoMs: 1_000 })).toMatchObject({ pid: null, attribution: 'unknown' });
        // Captured 0.1 s ago (at 9.9 s): that connection's.
        expect(await finder.find(imdsKey(37900), 20, { midStream: false, capturedAgoMs: 100 })).toMatchObject({ pid: 9500, comm: 'curl' });
        await finder.close();
      });
    });

    it('a lookup whose time ran out during a stall reads the trace up to now before it says unknown', async () => {
      const { finder, source } = await markingFinder();
      const found = finder.find(imdsKey(41500), 20);
      // The reader's batch is delivered after the timer: the loop was blocked past the 20 ms,
      // and Node runs expired timers before pending reads.
      source.next = [exec(9400, '/usr/bin/curl'), ...connection(9400, 41500)];
      const until = Date.now() + 60;
      while (Date.now() < until); // the stall
      expect(await found).toMatchObject({ pid: 9400, comm: 'curl' });
      expect(source.marks).toBe(1);
      expect(finder.stats.timedOut).toBe(0);
      await finder.close();
    });

    it('a reader that has nothing more still answers unknown, one marker later', async () => {
      const { finder, source } = await markingFinder();
      expect(await finder.find(imdsKey(41501), 20)).toMatchObject({ pid: null, attribution: 'unknown' });
      expect(source.marks).toBe(1);
      expect(finder.stats.timedOut).toBe(1);
      await finder.close();
    });

    it('an open connection answers at once, with no marker', async () => {
      const { finder, source } = await markingFinder();
      source.push(...connection(9277, 37816));
      expect(await finder.find(imdsKey(37816), 500)).toMatchObject({ pid: 9277 });
      expect(source.marks).toBe(0);
      await finder.close();
    });
  });
  describe("every CPU is read up to the connect before a gone process is named (one CPU's reader lagging)", () => {
    /** Two CPUs; what the test puts in `buffered[cpu]` is in that CPU's ring buffer, not yet taken by its reader. */
    class TwoCpuSource extends ReplaySource {
      readonly cpus = [0, 1];
      readonly buffered = new Map<number, TraceEvent[]>([[0, []], [1, []]]);
      statsReads = 0;
      clock = 10;
      pendingEvents(cpu: number): number | null {
        this.statsReads++;
        return this.buffered.get(cpu)?.length ?? null;
      }
      now(): number {
        return this.clock;
      }
      /** The lagging reader finally takes what `cpu`'s buffer held. */
      deliver(cpu: number): void {
        const events = this.buffered.get(cpu) ?? [];
        this.buffered.set(cpu, []);
        this.push(...events);
      }
    }
    const twoCpus = async (): Promise<{ finder: TracefsOwnerFinder; source: TwoCpuSource }> => {
      const source = new TwoCpuSource();
      const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source, reorderHoldbackMs: 5 });
      await finder.start();
      return { finder, source };
    };

    it("a gone client's exec waits in CPU 1's buffer: the lookup waits for it and names the program", async () => {
      const { finder, source } = await twoCpus();
      // The shell forked and exec'd curl on CPU 1; curl migrated to CPU 0, connected and exited.
      source.buffered.set(1, [fork(4100, 4127, 'sh', 0.5, 1), { ...exec(4127, '/usr/bin/curl', 0.8), cpu: 1 } as TraceEvent]);
      source.push(...connection(4127, 38001, {}, 1));
      const found = finder.find(imdsKey(38001), 1_000);
      await new Promise((resolve) => setTimeout(resolve, 40));
      source.deliver(1);
      expect(await found).toMatchObject({ pid: 4127, comm: 'curl', exe: '/usr/bin/curl', ppid: 4100, attribution: 'exited' });
      await finder.close();
    });

    it('a CPU that is behind but has nothing in its buffer does not hold the answer up', async () => {
      const { finder, source } = await twoCpus();
      source.push(exec(4200, '/usr/bin/curl', 0.8), ...connection(4200, 38002, {}, 1));
      const started = performance.now();
      expect(await finder.find(imdsKey(38002), 1_000)).toMatchObject({ pid: 4200, comm: 'curl', attribution: 'exited' });
      expect(performance.now() - started).toBeLessThan(500);
      expect(source.statsReads).toBeGreaterThan(0); // CPU 1 delivered nothing: its buffer was looked at
      await finder.close();
    });

    it('every CPU already past the connect: answered without reading any stats', async () => {
      const { finder, source } = await twoCpus();
      source.push(exec(4300, '/usr/bin/curl', 0.8), ...connection(4300, 38003, {}, 1));
      source.push({ ...exec(4301, '/usr/bin/true', 1.2), cpu: 1 } as TraceEvent);
      expect(await finder.find(imdsKey(38003), 1_000)).toMatchObject({ pid: 4300, comm: 'curl' });
      expect(source.statsReads).toBe(0);
      await finder.close();
    });

    it('a lookup that times out while the connect waits in a lagging CPU\'s buffer gets it after all', async () => {
      const { finder, source } = await twoCpus();
      source.buffered.set(1, [{ ...exec(4400, '/usr/bin/curl', 0.8), cpu: 1 } as TraceEvent, ...connection(4400, 38004, { cpu: 1 }, 1)]);
      const found = finder.find(imdsKey(38004), 20);
      await new Promise((resolve) => setTimeout(resolve, 80)); // past the 20 ms: the catch-up is polling CPU 1
      source.deliver(1);
      expect(await found).toMatchObject({ pid: 4400, comm: 'curl' });
      expect(finder.stats.timedOut).toBe(0);
      await finder.close();
    });
  });
});
