import { describe, expect, it } from 'vitest';
import { selectSocketOwnerFinder } from '../../../src/attribute/select-finder.js';
import type { TraceEventSource } from '../../../src/attribute/tracefs/trace-events.js';
import { fakeHost } from './fixtures.js';

const broken = async (): Promise<TraceEventSource> => {
  throw new Error('tracefs at /sys/kernel/tracing lacks events/header_page is missing');
};
const working = async (): Promise<TraceEventSource> => ({
  notes: ['cgroup_attach_task unavailable: a container process that exits at once may lose its container id'],
  failure: null,
  stream: () => {},
  close: async () => {},
});
const asRoot = process.getuid?.() === 0;

describe('selectSocketOwnerFinder', () => {
  it('procfs when asked, and says what that costs', async () => {
    const sel = await selectSocketOwnerFinder({ preferred: 'procfs', ...fakeHost });
    expect(sel.method).toBe('procfs');
    expect(sel.finder.method).toBe('procfs');
    expect(sel.reason).toMatch(/procfs requested.*only see sockets still open/);
    await sel.finder.close();
  });

  it.skipIf(!asRoot)('auto: tracefs when it starts, with its notes in the reason', async () => {
    const sel = await selectSocketOwnerFinder({ ...fakeHost, openSource: working });
    expect(sel.method).toBe('tracefs');
    expect(sel.reason).toMatch(/decoded with this kernel's published event formats.*cgroup_attach_task unavailable/);
    await sel.finder.close();
  });

  it.skipIf(!asRoot)('auto: falls back to procfs and says why', async () => {
    const sel = await selectSocketOwnerFinder({ ...fakeHost, openSource: broken });
    expect(sel.method).toBe('procfs');
    expect(sel.reason).toMatch(/^tracefs unavailable: .*header_page is missing; using \/proc scans/);
    await sel.finder.close();
  });

  it.skipIf(asRoot)('auto, not root: procfs because tracefs needs root', async () => {
    const sel = await selectSocketOwnerFinder({ ...fakeHost, openSource: working });
    expect(sel.reason).toMatch(/^tracefs needs root/);
    await sel.finder.close();
  });

  it('tracefs insisted on: the failure is a CaptureError with a stable code', async () => {
    await expect(selectSocketOwnerFinder({ preferred: 'tracefs', ...fakeHost, openSource: broken })).rejects.toMatchObject({
      code: 'ERR_ATTRIBUTION_UNAVAILABLE',
      exitCode: 4,
      message: expect.stringMatching(/header_page is missing/),
    });
  });

  it('fails when procfs cannot start either', async () => {
    await expect(selectSocketOwnerFinder({ preferred: 'procfs', procRoot: '/nonexistent' })).rejects.toMatchObject({
      code: 'ERR_ATTRIBUTION_UNAVAILABLE',
      message: expect.stringMatching(/cannot read/),
    });
  });
});
