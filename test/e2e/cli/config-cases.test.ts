// `imds-sniff config check` on hostile or broken config files, as an operator meets it: exit 2, one escaped line, never a hang.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-cfgcases-'));
const KNOWN_TOP = 'known: interface, attribution, attributionTimeout, stateDir, logs, identity, metrics';
const KNOWN_METRICS = 'known: sink, namespace, interval, maxProcesses, includeAutoScalingGroup, endpointUrl, region, emfFile, bufferMaxAge, bufferMaxBytes, maxAttempts';

function configFile(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** `config check --config <path>`; a timeout kills it, so a hang shows as a signal, not a stuck run. */
function check(path: string): ReturnType<typeof runCli> {
  return runCli(['config', 'check', '--config', path], { timeoutMs: 15_000 });
}

/** Exit 2 and exactly `imds-sniff: config <path>: <message> [ERR_USAGE]` on one line; no stack, no raw control character, nothing on stdout. */
function expectUsageLine(path: string, message: string, shownPath = path): void {
  const r = check(path);
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe(`imds-sniff: config ${shownPath}: ${message} [ERR_USAGE]\n`);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config check: keys that name Object.prototype members', () => {
  it.each([
    ['{"__proto__": {"interface": "evil"}}', '__proto__', KNOWN_TOP],
    ['{"constructor": 1}', 'constructor', KNOWN_TOP],
    ['{"toString": "x"}', 'toString', KNOWN_TOP],
    ['{"hasOwnProperty": true}', 'hasOwnProperty', KNOWN_TOP],
    ['{"metrics": {"__proto__": {"sink": "emf"}}}', 'metrics.__proto__', KNOWN_METRICS],
    ['{"metrics": {"constructor": 1}}', 'metrics.constructor', KNOWN_METRICS],
    ['{"metrics": {"toString": 1}}', 'metrics.toString', KNOWN_METRICS],
    ['{"metrics": {"hasOwnProperty": 1}}', 'metrics.hasOwnProperty', KNOWN_METRICS],
  ])('%s: exit 2, %s is not a setting', (text, key, known) => {
    expectUsageLine(configFile('proto.json', text), `${key} is not a setting (${known})`);
  });
});

describe('config check: a file that is not a JSON object', () => {
  it.each(['null', '[]', '"x"', '1', 'true'])('%s: exit 2, not the defaults', (text) => {
    expectUsageLine(configFile('not-object.json', text), 'the config must be a JSON object');
  });

  it.each([
    ['empty', ''],
    ['only whitespace', ' \n\t\r\n'],
  ])('%s: exit 2, says so', (_what, text) => {
    expectUsageLine(configFile('blank.json', text), 'the file is empty (a config of only the defaults is {})');
  });
});

describe('config check: untrusted text is shown escaped on one line', () => {
  it.each([
    ['a newline in a key', '{"a\\nb": 1}', `"a\\nb" is not a setting (${KNOWN_TOP})`],
    ['ESC in a key', '{"\\u001b[31mred": 1}', `"\\u001b[31mred" is not a setting (${KNOWN_TOP})`],
    ['a newline in a section key', '{"metrics": {"a\\nb": 1}}', `metrics."a\\nb" is not a setting (${KNOWN_METRICS})`],
    ['C1 CSI and a bidi override in a key', '{"\\u009b2J\\u202e": 1}', `"\\u009b2J\\u202e" is not a setting (${KNOWN_TOP})`],
    ['a 10 000-character key', `{"${'k'.repeat(10_000)}": 1}`, `"${'k'.repeat(64)}"… (10000 characters) is not a setting (${KNOWN_TOP})`],
  ])('%s', (_what, text, message) => {
    expectUsageLine(configFile('escape.json', text), message);
  });

  it('escapes a bad duration value, and keeps its hint', () => {
    const r = check(configFile('duration.json', '{"metrics": {"interval": "\\u001b[2J5s"}}'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`imds-sniff: config ${join(dir, 'duration.json')}: metrics.interval: "\\u001b[2J5s" is not a duration [ERR_USAGE]\n  hint: use e.g. 90s, 10m, 1h or 1h30m\n`);
  });

  it('escapes a file path that holds a newline, in the error and in "ok"', () => {
    const path = configFile('new\nline.json', '{}');
    const ok = check(path);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe(`imds-sniff: config ${JSON.stringify(path)}: ok\n`);
    expectUsageLine(configFile('new\nline.json', '{"x": 1}'), `x is not a setting (${KNOWN_TOP})`, JSON.stringify(path));
  });
});

describe('config check: huge, deep, binary, or not a file', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  it.each([
    ['100 000 nested arrays', deep, 'the config must be a JSON object'],
    ['100 000 nested arrays as a value', `{"metrics": {"sink": ${deep}}}`, 'metrics.sink must be one of cloudwatch, emf, none'],
    ['100 000 nested objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), `a is not a setting (${KNOWN_TOP})`],
  ])('%s: exit 2 in one line', (_what, text, message) => {
    expectUsageLine(configFile('deep.json', text), message);
  });

  it('refuses a file over 1 MiB without reading it into a parser', () => {
    // 3 MiB of `{},` in an array: valid JSON that would take the parser seconds and a heap of objects
    const text = `{"metrics": {"sink": [${'{},'.repeat(1024 * 1024)}{}]}}`;
    expectUsageLine(configFile('huge.json', text), `too large (${Buffer.byteLength(text)} bytes; a config is at most 1 MiB)`);
  });

  it('refuses bytes that are not UTF-8', () => {
    const path = configFile('latin1.json', Buffer.concat([Buffer.from('{"interface": "eth'), Buffer.from([0xe9, 0xff]), Buffer.from('"}')]));
    expectUsageLine(path, 'not valid UTF-8 text');
  });

  it('refuses a directory', () => {
    const path = join(dir, 'a-directory.json');
    mkdirSync(path, { recursive: true });
    expectUsageLine(path, 'cannot read it (it is a directory)');
  });

  it('refuses a FIFO with no writer at once, without blocking', () => {
    const path = join(dir, 'fifo.json');
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    const started = Date.now();
    expectUsageLine(path, 'cannot read it (it is a FIFO, not a regular file)');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a device', () => {
    expectUsageLine('/dev/null', 'cannot read it (it is a device, not a regular file)');
  });
});
