import { describe, expect, it } from 'vitest';
import { LayeredOwnerFinder } from '../../../src/attribute/layered-finder.js';
import { unknownProcess, type ProcessInfo, type SocketKey, type SocketOwnerFinder } from '../../../src/attribute/types.js';

/** A finder that answers from a table and counts its lookups. */
class TableFinder implements SocketOwnerFinder {
  lookups = 0;
  failure: string | null = null;
  lost = false;
  constructor(
    readonly method: 'tracefs' | 'procfs',
    private readonly known: Map<number, ProcessInfo>,
  ) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  missedRecently(): boolean {
    return this.lost;
  }
  async find(key: SocketKey): Promise<ProcessInfo> {
    this.lookups++;
    return this.known.get(key.srcPort) ?? unknownProcess();
  }
}

const key = (srcPort: number): SocketKey => ({ family: 4, srcIp: '10.0.2.15', srcPort, dstIp: '169.254.169.254', dstPort: 80 });
const proc = (pid: number, attribution: ProcessInfo['attribution']): ProcessInfo => ({ ...unknownProcess(), pid, attribution });

describe('LayeredOwnerFinder', () => {
  const setup = () => {
    const trace = new TableFinder('tracefs', new Map([[1000, proc(10, 'tracefs')]]));
    const scan = new TableFinder('procfs', new Map([[2000, proc(20, 'procfs')]]));
    return { trace, scan, finder: new LayeredOwnerFinder(trace, scan) };
  };

  it('answers from the trace when it knows', async () => {
    const { scan, finder } = setup();
    expect(await finder.find(key(1000), 100)).toMatchObject({ pid: 10 });
    expect(scan.lookups).toBe(0);
  });

  it('does not scan /proc for a miss when the trace lost nothing', async () => {
    const { trace, scan, finder } = setup();
    expect(await finder.find(key(2000), 100)).toMatchObject({ pid: null, attribution: 'unknown' });
    expect(trace.lookups).toBe(1);
    expect(scan.lookups).toBe(0);
  });

  it('scans /proc for a miss after the trace lost events', async () => {
    const { trace, scan, finder } = setup();
    trace.lost = true;
    expect(await finder.find(key(2000), 100)).toMatchObject({ pid: 20, attribution: 'procfs' });
    expect(scan.lookups).toBe(1);
  });

  it('goes to /proc at once for a connection older than the agent, and when the trace failed', async () => {
    const { trace, scan, finder } = setup();
    expect(await finder.find(key(2000), 100, { midStream: true })).toMatchObject({ pid: 20 });
    expect(trace.lookups).toBe(0);
    trace.failure = 'cpu0 trace_pipe_raw reader exited';
    expect(await finder.find(key(2000), 100)).toMatchObject({ pid: 20 });
    expect(trace.lookups).toBe(0);
    expect(scan.lookups).toBe(2);
  });
});
