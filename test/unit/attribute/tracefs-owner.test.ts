import { describe, expect, it } from 'vitest';
import { TracefsOwnerFinder, type TraceLineSource } from '../../../src/attribute/tracefs-owner.js';
import type { SocketKey } from '../../../src/attribute/types.js';
import { fakeHost, fixtureText, traceSamples } from './fixtures.js';

/** Feeds recorded trace_pipe lines to the finder instead of a tracefs instance. */
class ReplaySource implements TraceLineSource {
  readonly notes = ['replay'];
  readonly failure = null;
  closed = false;
  private onLines: ((lines: string[]) => void) | null = null;
  stream(onLines: (lines: string[]) => void): void {
    this.onLines = onLines;
  }
  push(...lines: string[]): void {
    this.onLines?.(lines);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function started(): Promise<{ finder: TracefsOwnerFinder; source: ReplaySource }> {
  const source = new ReplaySource();
  const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source });
  await finder.start();
  return { finder, source };
}

const samples = traceSamples();
const sample = (name: string): string => samples.get(name) ?? '';
const imdsKey = (srcPort: number): SocketKey => ({ family: 4, srcIp: '10.0.2.15', srcPort, dstIp: '169.254.169.254', dstPort: 80 });
/** The same real lines, as if the connecting curl were the fixture's pid 2015 (alive in fixtures/proc/host). */
const asPid2015 = (line: string): string => line.replace('curl-9277    (   9277)', 'curl-2015    (   2015)');

describe('TracefsOwnerFinder (replayed lines, fixture /proc)', () => {
  it('process already gone: pid, comm and exe from the trace, ppid from the fork event', async () => {
    const { finder, source } = await started();
    source.push(...fixtureText('trace', 'live-netns-curls.txt').split('\n'));
    expect(await finder.find(imdsKey(37816), 100)).toMatchObject({
      pid: 9277,
      ppid: 9212,
      comm: 'curl',
      exe: '/usr/bin/curl',
      cmdline: null,
      netns: null,
      attribution: 'exited',
    });
    expect(finder.stats).toMatchObject({ connects: 7, exited: 1, timedOut: 0 });
    await finder.close();
  });

  it('process alive at connect: the /proc snapshot, attribution tracefs', async () => {
    const { finder, source } = await started();
    source.push(asPid2015(sample('netns-connect')), asPid2015(sample('netns-established')));
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

  it('resolves a find() made before the port is known as soon as the line arrives', async () => {
    const { finder, source } = await started();
    source.push(asPid2015(sample('netns-connect')));
    const pending = finder.find(imdsKey(37816), 5_000);
    const t0 = Date.now();
    setTimeout(() => source.push(asPid2015(sample('netns-established'))), 20);
    expect((await pending).pid).toBe(2015);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await finder.close();
  });

  it('no tgid column: the process id comes from /proc/<tid>/status', async () => {
    const { finder, source } = await started();
    const connect = sample('brief-connect-no-tgid');
    source.push(connect, connect.replace('oldstate=0x7 (7) newstate=0x2 (2) sport=0x0 (0)', 'oldstate=0x2 (2) newstate=0x1 (1) sport=0x1f90 (8080)'));
    expect(await finder.find({ family: 4, srcIp: '127.0.0.1', srcPort: 8080, dstIp: '127.0.0.1', dstPort: 9 }, 100)).toMatchObject({
      pid: 2015,
      attribution: 'tracefs',
    });
    await finder.close();
  });

  it('a thread that connected is reported as its process (tgid)', async () => {
    const { finder, source } = await started();
    const connect = sample('thread-connect');
    source.push(connect, connect.replace('oldstate=0x7 (7) newstate=0x2 (2) sport=0x0 (0)', 'oldstate=0x2 (2) newstate=0x1 (1) sport=0x914e (37198)'));
    expect(await finder.find({ family: 4, srcIp: '127.0.0.1', srcPort: 37198, dstIp: '127.0.0.1', dstPort: 80 }, 100)).toMatchObject({
      pid: 3985,
      comm: 'python3',
      attribution: 'exited',
    });
    await finder.close();
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

  it('counts lost events', async () => {
    const { finder, source } = await started();
    source.push(sample('lost-events'));
    expect(finder.stats.lostEvents).toBe(42);
    await finder.close();
  });

  describe('a closed connection on a tuple is only trusted once the trace is read up to now', () => {
    /** A source with a trace_marker: each mark() delivers `next` lines (what the kernel had meanwhile), then the marker line. */
    class MarkingSource extends ReplaySource {
      next: string[] = [];
      marks = 0;
      mark(): void {
        this.marks++;
        const lines = [...this.next, `            node-${process.pid}    (  ${process.pid}) [000] ...1.   774.100000: UNKNOWN TYPE 5`];
        this.next = [];
        setImmediate(() => this.push(...lines));
      }
    }
    const closedOnPort37816 = [sample('netns-connect'), sample('netns-established'), sample('softirq-close-in-server-context')];
    const newSocket = (line: string): string => line.replace(/curl-9277    \(   9277\)/, 'curl-9300    (   9300)').replace(/skaddr=0xffff8881049fc0c0 \(-?\d+\)/, 'skaddr=0xffff8881049fd000 (-131387266969600)');

    it('the source port reused at once by a newer connect not read yet: the newer process, not the closed one', async () => {
      const source = new MarkingSource();
      const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source });
      await finder.start();
      source.push(...closedOnPort37816);
      source.next = [newSocket(sample('netns-connect')), newSocket(sample('netns-established'))];
      expect(await finder.find(imdsKey(37816), 500)).toMatchObject({ pid: 9300, comm: 'curl' });
      expect(source.marks).toBe(1);
      await finder.close();
    });

    it('no newer connect up to now: the closed connection answers (a client that already exited)', async () => {
      const source = new MarkingSource();
      const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source });
      await finder.start();
      source.push(...closedOnPort37816);
      expect(await finder.find(imdsKey(37816), 500)).toMatchObject({ pid: 9277, attribution: 'exited' });
      expect(source.marks).toBe(1);
      await finder.close();
    });

    it('an open connection answers at once, with no marker', async () => {
      const source = new MarkingSource();
      const finder = new TracefsOwnerFinder({ ...fakeHost, openSource: async () => source });
      await finder.start();
      source.push(sample('netns-connect'), sample('netns-established'));
      expect(await finder.find(imdsKey(37816), 500)).toMatchObject({ pid: 9277 });
      expect(source.marks).toBe(0);
      await finder.close();
    });
  });
});
