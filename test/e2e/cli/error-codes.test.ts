// Error codes as scripts meet them: on the error line, in JSON output, and the categories (an unreadable state file is usage).

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from '../../helpers/run-cli.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('error codes', () => {
  it('the one-line error ends with the code; with --format json the error is also one JSON line on stdout', () => {
    const table = runCli(['--read', '/nonexistent/x.pcap']);
    expect(table.code).toBe(4);
    expectOneLineError(table.stderr, /^imds-sniff: cannot read capture file \/nonexistent\/x\.pcap: .* \[ERR_PCAP_FILE\]\n/);
    expect(table.stdout).toBe('');
    const json = runCli(['--read', '/nonexistent/x.pcap', '--format', 'json']);
    expect(json.code).toBe(4);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { event: 'error', code: 'ERR_PCAP_FILE', exit_code: 4, message: expect.stringMatching(/^cannot read capture file \/nonexistent\/x\.pcap/) as unknown, hint: null },
    ]);
  });

  it('an unknown flag is ERR_USAGE, in JSON too', () => {
    const r = runCli(['status', '--no-such-flag', '-f', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^imds-sniff: unknown option '--no-such-flag' \[ERR_USAGE\]\n/);
    expect(JSON.parse(r.stdout)).toEqual({ event: 'error', code: 'ERR_USAGE', exit_code: 2, message: "unknown option '--no-such-flag'", hint: null });
  });

  it('a bad flag is ERR_USAGE on its line', () => {
    const r = runCli(['status', '--min-observation', 'soon', '--instance-id', 'i-0123456789abcdef0', '--region', 'us-east-1', '-f', 'json']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /--min-observation.*"soon" is not a duration \[ERR_USAGE\]\n/);
    expect(JSON.parse(r.stdout)).toMatchObject({ event: 'error', code: 'ERR_USAGE', exit_code: 2 });
  });

  it.skipIf(!isRoot)('a state file the daemon cannot read is a usage error (exit 2), and it is not moved aside as corrupt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-eacces-'));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const state = join(dir, 'state.json');
    writeFileSync(state, '{"version":1}', { mode: 0o600 }); // root's, unreadable to nobody
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ stateDir: dir, logs: { eventsFile: null }, identity: { instanceId: 'i-0123456789abcdef0', region: 'us-east-1' }, metrics: { sink: 'none' } }), { mode: 0o644 });
    // nobody, with the capture capability: it gets past the capture check to the state file.
    const r = runCli(['daemon', '--config', config], { asNobody: true, capNetRaw: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\nimds-sniff: cannot read the state file .*state\.json \(permission denied\) \[ERR_STATE_UNREADABLE\]\n {2}hint: run the daemon as root/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/moved to|counting from zero/);
  });
});
