import { describe, expect, it } from 'vitest';
import { selectSocketOwnerFinder } from '../../../src/attribute/select-finder.js';
import type { TraceLineSource } from '../../../src/attribute/tracefs-owner.js';
import { fakeHost } from './fixtures.js';

const broken = async (): Promise<TraceLineSource> => {
  throw new Error("tracefs at /sys/kernel/tracing lacks trace option 'fields'");
};
const working = async (): Promise<TraceLineSource> => ({
  notes: ['raised global saved_cmdlines_size from 128 to 8192'],
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
    expect(sel.reason).toMatch(/saved_cmdlines_size/);
    await sel.finder.close();
  });

  it.skipIf(!asRoot)('auto: falls back to procfs and says why', async () => {
    const sel = await selectSocketOwnerFinder({ ...fakeHost, openSource: broken });
    expect(sel.method).toBe('procfs');
    expect(sel.reason).toMatch(/^tracefs unavailable: .*'fields'.*; using \/proc scans/);
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
      message: expect.stringMatching(/'fields'/),
    });
  });

  it('fails when procfs cannot start either', async () => {
    await expect(selectSocketOwnerFinder({ preferred: 'procfs', procRoot: '/nonexistent' })).rejects.toMatchObject({
      code: 'ERR_ATTRIBUTION_UNAVAILABLE',
      message: expect.stringMatching(/cannot read/),
    });
  });
});
