// Where the output goes: a full disk, a closed pipe, a FIFO, a planted symlink, the capture file itself.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, MAIN, runCli } from '../../helpers/run-cli.js';

const PCAP = fileURLToPath(new URL('../../../fixtures/pcap/curl.pcap', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('imds-sniff output that cannot be written', () => {
  it.each(['json', 'table'])('a full disk (%s on stdout or --output) is one line and exit 4, never a hang or a stack trace', (format) => {
    const stdout = spawnSync('sh', ['-c', `exec "${process.execPath}" "${MAIN}" --read "${PCAP}" --format ${format} > /dev/full`], { encoding: 'utf8', timeout: 20_000 });
    expect(stdout.signal).toBeNull();
    expect(stdout.status).toBe(4);
    expectOneLineError(stdout.stderr, /^imds-sniff: cannot write the output to stdout: no space left on the device; this run has no result \[ERR_OUTPUT\]\n$/);
    const file = runCli(['--read', PCAP, '--format', format, '--output', '/dev/full'], { timeoutMs: 20_000 });
    expect(file.code).toBe(4);
    expect(file.stderr).toMatch(/cannot write the output to \/dev\/full: no space left on the device/);
  });

  it.each(['json', 'table'])('a reader that goes away (%s | head -1) ends the run with 141, never a verdict of 0', (format) => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${MAIN}" --read "${PCAP}" --format ${format} | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout.trim()).toBe('141');
    expect(r.stderr).toBe('');
  });
});

describe('imds-sniff --output paths it refuses: exit 2 before anything is read', () => {
  it('a FIFO with no reader (it would block forever)', () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = runCli(['--read', PCAP, '--output', fifo], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /--output: cannot write .*out\.fifo: it is a FIFO with no reader/);
  });

  it('a symbolic link (another user may have planted it where root writes)', () => {
    const link = join(dir, 'planted.txt');
    symlinkSync(join(dir, 'target.txt'), link);
    const r = runCli(['--read', PCAP, '--output', link]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /it is a symbolic link \(give the file it points to\)/);
    expect(existsSync(join(dir, 'target.txt'))).toBe(false);
  });

  it('the capture file given to --read (appending would spoil the evidence)', () => {
    const same = join(dir, 'same.pcap');
    copyFileSync(PCAP, same);
    const r = runCli(['--read', same, '--output', same]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /--output: .*same\.pcap is the capture file given to --read/);
    expect(readFileSync(same)).toEqual(readFileSync(PCAP));
  });

  it.each([
    [['--interface', 'eth0'], '--interface'],
    [['--attribution', 'procfs'], '--attribution'],
    [['--attribution-timeout', '1s'], '--attribution-timeout'],
    [['--no-identity'], '--no-identity'],
    [['--duration', '1m'], '--duration'],
  ])('live-capture flags with --read: %j', (flags, name) => {
    const r = runCli(['--read', PCAP, ...flags]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, new RegExp(`--read and ${name} do not go together \\(a file is analysed, not captured\\)`));
  });
});
