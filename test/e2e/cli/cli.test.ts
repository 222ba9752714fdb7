// The built CLI as an operator meets it: flags, exit codes, one-line errors (never a stack trace), doctor.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, MAIN, runCli } from '../../helpers/run-cli.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const PCAP = fileURLToPath(new URL('../../../fixtures/pcap/curl.pcap', import.meta.url));
const isRoot = process.getuid?.() === 0;
const cli = runCli;

describe('imds-sniff CLI', () => {
  it.each([
    [['--duration', 'ten'], /--duration: "ten" is not a duration/],
    [['--duration', '0s'], /greater than zero/],
    [['--format', 'xml'], /Allowed choices are table, json/],
    [['--attribution', 'magic'], /Allowed choices are auto, tracefs, procfs, none/],
    [['--no-such-flag'], /^imds-sniff: unknown option '--no-such-flag' \[ERR_USAGE\]\n  hint: run imds-sniff --help\n$/],
    [['--read', PCAP, '--duration', '1m'], /--read and --duration do not go together/],
    [['--duration', '25d'], /too long \(at most 24d\)/],
    [['--read', PCAP, '--output', '/nonexistent/dir/out.txt'], /--output: cannot write \/nonexistent\/dir\/out.txt: no such directory/],
    [['--read', PCAP, '--format', 'json', '--output', '/tmp'], /--output: cannot write \/tmp: it is a directory/],
  ])('%j is a usage error: exit 2', (args, message) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, message);
  });

  it('says a missing capture file cannot be read: exit 4', () => {
    const r = cli(['--read', '/nonexistent/x.pcap']);
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /^imds-sniff: cannot read capture file \/nonexistent\/x.pcap: no such file or directory/i);
  });

  it('says a file that is not a capture is not one: exit 4', () => {
    const r = cli(['--read', README]);
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /is not a pcap capture file \(not a pcap or pcapng file\)/);
  });

  it('warns about a capture that was cut short and analyses what is there', () => {
    const cut = join(mkdtempSync(join(tmpdir(), 'imds-sniff-cut-')), 'cut.pcap');
    writeFileSync(cut, readFileSync(PCAP).subarray(0, 3000));
    const r = cli(['--read', cut, '--format', 'json']);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; code?: string });
    expect(events.map((e) => e.event)).toEqual(['start', 'imds_request', 'imds_request', 'warning', 'summary']);
    expect(events[3]?.code).toBe('PCAP_TRUNCATED');
    expect(r.code).toBe(3);
  });

  it('writes --output files with mode 0640 and says so on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-out-'));
    for (const format of ['json', 'table']) {
      const out = join(dir, `out.${format}`);
      const r = cli(['--read', PCAP, '--format', format, '--output', out]);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`imds-sniff: reading ${PCAP}, writing ${format} to ${out}\n`);
      expect(statSync(out).mode & 0o777).toBe(0o640);
      expect(readFileSync(out, 'utf8')).toContain(format === 'json' ? '"event":"summary"' : '== imds-sniff summary ==');
    }
  });

  it('has a help command and exits quietly when its reader goes away', () => {
    expect(cli(['help', 'demo']).stdout).toContain('Usage: imds-sniff demo');
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${MAIN}" --read "${PCAP}" --format json | head -c 1 >/dev/null; exit 0`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('analyses a capture file and exits 3 when IMDSv1 was seen', () => {
    const r = cli(['--read', PCAP]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('verdict: not safe to require IMDSv2: 1 process still uses IMDSv1: client 10.50.0.2');
  });

  it('prints one JSON object per line with --format json', () => {
    const r = cli(['--read', PCAP, '--format', 'json']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(lines.map((l) => l.event)).toEqual(['start', 'imds_request', 'imds_request', 'imds_request', 'summary']);
  });

  it('config check prints the effective settings, or names the bad field: exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-cfg-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ metrics: { sink: 'emf', interval: '30s' } }));
    const ok = cli(['config', 'check', '--config', good]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe(`imds-sniff: config ${good}: ok\n`);
    expect(JSON.parse(ok.stdout)).toMatchObject({ metrics: { sink: 'emf', intervalSeconds: 30, namespace: 'IMDSSniff' } });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ metrics: { sinks: 'emf' } }));
    const r = cli(['config', 'check', '--config', bad]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^imds-sniff: config .*bad\.json: metrics\.sinks is not a setting/);
  });

  it('a capture loads none of the heavy packages: the AWS SDK, pino and the CloudWatch client come with the commands that use them', () => {
    const hook = fileURLToPath(new URL('../../helpers/report-package-loads.mjs', import.meta.url));
    const loaded = (args: string[]): string[] =>
      spawnSync(process.execPath, ['--import', hook, MAIN, ...args], { encoding: 'utf8', timeout: 30_000 })
        .stderr.split('\n')
        .filter((l) => l.startsWith('loaded '))
        .map((l) => l.slice('loaded '.length));
    const heavy = (pkg: string): boolean => pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg === 'pino' || pkg === 'systeminformation';
    expect(loaded(['--read', PCAP, '--format', 'json']).filter(heavy)).toEqual([]);
    expect(loaded(['daemon', '--help']).filter(heavy)).toEqual([]);
    expect(loaded(['demo', '--help']).filter(heavy)).toEqual([]);
    // The hook does see them: the daemon loads pino (and stops at its missing config), a control command the EC2 client.
    expect(loaded(['daemon', '--config', '/nonexistent/imds-sniff.json'])).toContain('pino');
    expect(loaded(['enforce', '--min-observation', 'soon'])).toContain('@aws-sdk/client-ec2');
  });

  it('--version: first, or among the capture options; after a command it is a usage error', () => {
    for (const args of [['--version'], ['-V'], ['--format', 'json', '-V'], ['--debug', '--version']]) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^imds-sniff \d+\.\d+\.\d+\ncommit (unknown|[0-9a-f]{12}(-dirty)?)\nnode v\d+\.\d+\.\d+\nlibpcap /);
    }
    // `enforce --version` (say, from an SSM parameter) must not answer "ok" without enforcing.
    const r = runCli(['enforce', '--version']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^imds-sniff: unknown option '--version'/);
  });

  it("points a subcommand's bad flag at that subcommand's help", () => {
    const r = cli(['status', '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/argument 'xml' is invalid/);
    expect(r.stderr).toMatch(/hint: run imds-sniff status --help/);
    expect(cli(['config', 'check', '--bogus']).stderr).toMatch(/hint: run imds-sniff config check --help/);
  });

  it('takes --debug after the command too, and then shows the stack', () => {
    for (const args of [['--debug', 'config', 'check', '--config', '/nonexistent/c.json'], ['config', 'check', '--config', '/nonexistent/c.json', '--debug']]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^imds-sniff: config \/nonexistent\/c\.json/);
      expect(r.stderr).toMatch(/\n\s+at /);
    }
  });

  it('documents every flag in --help', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--duration', '--interface', '--format', '--output', '--read', '--attribution', '--attribution-timeout', '--no-identity', 'daemon', 'config', 'doctor', 'demo']) {
      expect(r.stdout).toContain(flag);
    }
    const daemon = cli(['daemon', '--help']).stdout;
    for (const flag of ['--config', '--interface', '--attribution', '--events-file', '--log-v2', '--state-dir', '--metrics-sink', '--namespace', '--interval', '--endpoint-url', '--region', '--instance-id']) {
      expect(daemon).toContain(flag);
    }
  });

  it.skipIf(!isRoot)('says libpcap is missing when live capture cannot load it: exit 4; --read needs no libpcap', () => {
    // A private mount namespace where the libpcap the binding links to is an empty file.
    const lib = spawnSync('sh', ['-c', "readlink -f \"$(ldconfig -p | awk '/libpcap[.]so[.]0[.]8 /{print $NF; exit}')\""], { encoding: 'utf8' }).stdout.trim();
    expect(lib).toMatch(/libpcap/);
    const without = (args: string) => spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind /dev/null "${lib}" && exec "${process.execPath}" "${MAIN}" ${args}`], { encoding: 'utf8' });
    const live = without('--duration 1s --no-identity --attribution none');
    expect(live.status).toBe(4);
    expectOneLineError(live.stderr, /^imds-sniff: cannot load libpcap/);
    const offline = without(`--read "${PCAP}" --format json`);
    expect(offline.status).toBe(3);
    expect(offline.stdout).toContain('"event":"summary"');
  });

  it.skipIf(!isRoot)('refuses an unknown interface: exit 4', () => {
    const r = cli(['--interface', 'nosuch0', '--duration', '1s']);
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /unknown interface "nosuch0"/);
  });

  it.skipIf(!isRoot)('says what privilege is missing when not root: exit 4', () => {
    const r = cli(['--duration', '1s'], { asNobody: true });
    expect(r.code).toBe(4);
    expectOneLineError(r.stderr, /capturing packets needs root or CAP_NET_RAW/);
  });

});

const prereq = testbedPrerequisites();
describe.skipIf(!prereq.ok)(prereq.ok ? 'imds-sniff doctor' : `imds-sniff doctor (skipped: ${prereq.reason ?? ''})`, () => {
  const prefix = `imdssd${randomBytes(3).toString('hex')}`;
  let tb: Testbed;
  beforeAll(async () => {
    tb = await createTestbed({ prefix, block: 33 });
  });
  afterAll(async () => {
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
  });

  it('reports libpcap, privileges, the attribution method and the IMDS mode', async () => {
    const checksOf = (r: { stdout: string }) =>
      Object.fromEntries(
        r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { check: string; status: string; detail: string }).map((c) => [c.check, c]),
      );
    const r = cli(['doctor', '--format', 'json'], { netns: tb.nsName('host') });
    expect(r.code).toBe(0);
    const byName = checksOf(r);
    expect(byName['capture privilege']?.status).toBe('ok');
    expect(byName['libpcap']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/libpcap version/) });
    expect(byName['attribution']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^tracefs/) });
    expect(byName['IMDS']).toMatchObject({ status: 'ok', detail: 'IMDSv1 allowed (HttpTokens=optional)' });
    await tb.mock.setOptions({ httpTokens: 'required' });
    expect(checksOf(cli(['doctor', '--format', 'json'], { netns: tb.nsName('host') }))['IMDS']?.detail).toMatch(/IMDSv2 required/);
    await tb.mock.setOptions({ httpEndpoint: 'disabled' });
    expect(checksOf(cli(['doctor', '--format', 'json'], { netns: tb.nsName('host') }))['IMDS']?.detail).toMatch(/disabled/);
  });

  it('says what is missing for a user without privileges: exit 4', () => {
    const r = cli(['doctor'], { asNobody: true, netns: tb.nsName('host') });
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/FAIL\s+capture privilege\s+needs root or CAP_NET_RAW/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
