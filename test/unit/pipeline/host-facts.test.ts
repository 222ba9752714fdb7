// The host facts of a summary, read from /etc/os-release and os.release() instead of systeminformation.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectHostFacts, osReleaseName } from '../../../src/pipeline/host-facts.js';

describe('osReleaseName', () => {
  it('takes PRETTY_NAME, quoted as the files write it', () => {
    expect(osReleaseName('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(osReleaseName("NAME='Amazon Linux'\nPRETTY_NAME='Amazon Linux 2023.6.20241031'\n")).toBe('Amazon Linux 2023.6.20241031');
  });

  it('falls back to NAME and VERSION_ID, unquoted values and escapes included', () => {
    expect(osReleaseName('NAME=Alpine\nVERSION_ID=3.20.3\n')).toBe('Alpine 3.20.3');
    expect(osReleaseName('NAME="Say \\"hi\\" OS"\n')).toBe('Say "hi" OS');
  });

  it('says nothing for a file without those keys, comments and junk ignored', () => {
    expect(osReleaseName('# a comment\n\nnot a line\nID=debian\n')).toBeNull();
    expect(osReleaseName('')).toBeNull();
  });
});

describe('collectHostFacts', () => {
  it('reads the given os-release, the kernel release and the hostname, with no child process', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'imds-sniff-os-'));
    try {
      const file = path.join(dir, 'os-release');
      writeFileSync(file, 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\n');
      // The first path is missing: the next one is read.
      const facts = await collectHostFacts('i-0123456789abcdef0', [path.join(dir, 'missing'), file]);
      expect(facts).toMatchObject({ os: 'Ubuntu 24.04.1 LTS', kernel: release(), instance_id: 'i-0123456789abcdef0' });
      expect(facts.hostname.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no os-release anywhere leaves the platform as the OS, never an error', async () => {
    const facts = await collectHostFacts(null, ['/nonexistent/os-release']);
    expect(facts.os).toBe(process.platform);
    expect(facts.instance_id).toBeNull();
  });
});
