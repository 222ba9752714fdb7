import { describe, expect, it } from 'vitest';
import { selectSocketOwnerFinder } from '../../../src/attribute/select-finder.js';
import { fakeHost } from './fixtures.js';

describe('selectSocketOwnerFinder', () => {
  it('procfs when asked, and says what that costs', async () => {
    const sel = await selectSocketOwnerFinder({ preferred: 'procfs', ...fakeHost });
    expect(sel.method).toBe('procfs');
    expect(sel.finder.method).toBe('procfs');
    expect(sel.reason).toMatch(/procfs requested.*only see sockets still open/);
    await sel.finder.close();
  });

  it('fails when procfs cannot start either', async () => {
    await expect(selectSocketOwnerFinder({ preferred: 'procfs', procRoot: '/nonexistent' })).rejects.toThrow(/cannot read/);
  });
});
