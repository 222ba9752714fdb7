import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePasswd, UserNames } from '../../../src/attribute/users.js';
import { fakeHost, fixtureText } from './fixtures.js';

describe('parsePasswd', () => {
  const users = parsePasswd(fixtureText('host', 'etc', 'passwd'));
  it.each([
    [0, 'root'],
    [1, 'daemon'],
    [1000, 'ec2-user'],
    [65534, 'nobody'],
    [4242, undefined],
  ])('uid %s → %s', (uid, name) => {
    expect(users.get(uid)).toBe(name);
  });

  it('keeps the first name for a shared uid and skips bad lines', () => {
    const m = parsePasswd('toor:x:0:0::/:/bin/sh\nroot:x:0:0::/:/bin/sh\nbad\nx:x::0::/:\n');
    expect([...m]).toEqual([[0, 'toor']]);
  });
});

describe('UserNames', () => {
  it('reads <hostRoot>/etc/passwd', async () => {
    const names = new UserNames({ hostRoot: fakeHost.hostRoot });
    expect(await names.name(1000)).toBe('ec2-user');
    expect(await names.name(4242)).toBeNull();
  });

  it('re-reads on a miss at most once per minRefreshMs', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'imds-users-'));
    mkdirSync(path.join(root, 'etc'));
    const passwd = path.join(root, 'etc', 'passwd');
    writeFileSync(passwd, 'root:x:0:0::/:/bin/sh\n');
    let now = 0;
    const names = new UserNames({ hostRoot: root, minRefreshMs: 5_000, now: () => now });
    expect(await names.name(0)).toBe('root');
    writeFileSync(passwd, 'root:x:0:0::/:/bin/sh\nnew:x:1001:1001::/:/bin/sh\n');
    now = 1_000;
    expect(await names.name(1001)).toBeNull(); // too soon to re-read
    now = 6_000;
    expect(await names.name(1001)).toBe('new');
    rmSync(root, { recursive: true, force: true });
  });

  it('returns null when passwd is missing', async () => {
    const names = new UserNames({ hostRoot: path.join(tmpdir(), 'does-not-exist-imds') });
    expect(await names.name(0)).toBeNull();
  });
});
