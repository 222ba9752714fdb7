import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, MAX_CONFIG_BYTES } from '../../../src/config/load.js';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';
import { UsageError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('validateConfig', () => {
  it('fills every default from an empty object', () => {
    expect(validateConfig({})).toEqual(DEFAULT_CONFIG);
  });

  it('reads every field', () => {
    const config = validateConfig({
      interface: 'eth0',
      attribution: 'procfs',
      attributionTimeout: '250ms',
      stateDir: '/tmp/state',
      logs: { eventsFile: null, logV2: 'summary', summaryInterval: '5m' },
      identity: { instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', timeout: 2 },
      metrics: {
        sink: 'emf', namespace: 'Team/IMDS', interval: '30s', maxProcesses: 5, includeAutoScalingGroup: true,
        endpointUrl: 'http://127.0.0.1:5000', region: 'us-east-2', emfFile: '/tmp/emf', bufferMaxAge: '2h', bufferMaxBytes: 1048576, maxAttempts: 3,
      },
    });
    expect(config).toMatchObject({
      interface: 'eth0', attribution: 'procfs', attributionTimeoutMs: 250, stateDir: '/tmp/state',
      logs: { eventsFile: null, logV2: 'summary', summaryIntervalSeconds: 300 },
      identity: { instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', timeoutMs: 2000 },
      metrics: { sink: 'emf', namespace: 'Team/IMDS', intervalSeconds: 30, maxProcesses: 5, includeAutoScalingGroup: true, endpointUrl: 'http://127.0.0.1:5000', region: 'us-east-2', emfFile: '/tmp/emf', bufferMaxAgeSeconds: 7200, bufferMaxBytes: 1048576, maxAttempts: 3 },
    });
  });

  it.each([
    [{ interfce: 'eth0' }, /^interfce is not a setting/],
    [{ metrics: { intervall: '60s' } }, /^metrics\.intervall is not a setting \(known: sink, namespace/],
    [{ metrics: { interval: '5x' } }, /^metrics\.interval: "5x" is not a duration/],
    [{ metrics: { interval: '10ms' } }, /^metrics\.interval must be from 1s to 3600s/],
    [{ metrics: { sink: 'prometheus' } }, /^metrics\.sink must be one of cloudwatch, emf, none/],
    [{ metrics: { maxProcesses: 0 } }, /^metrics\.maxProcesses must be an integer from 1 to 500/],
    [{ metrics: { namespace: 'AWS/EC2' } }, /^metrics\.namespace must be/],
    [{ metrics: 'yes' }, /^metrics must be an object/],
    [{ identity: { instanceId: 'web-1' } }, /^identity\.instanceId must be an instance id/],
    [{ identity: { region: 'Virginia' } }, /^identity\.region must be a region/],
    [{ logs: { logV2: 'some' } }, /^logs\.logV2 must be one of all, summary, none/],
    [{ metrics: { includeAutoScalingGroup: 'true' } }, /^metrics\.includeAutoScalingGroup must be true or false/],
    [[], /^the config must be a JSON object/],
  ])('rejects %j naming the field', (json, message) => {
    expect(() => validateConfig(json)).toThrowError(message);
  });
});

describe('loadConfig', () => {
  it('uses the defaults when the default file is absent', () => {
    // the default path is /etc/imds-sniff/config.json; absent on a test machine unless installed
    const { config } = loadConfig(undefined, {});
    expect(config.metrics.namespace).toBeTypeOf('string');
  });

  it('says an explicit file that is missing cannot be read', () => {
    expect(() => loadConfig(join(dir, 'none.json'))).toThrowError(/^config .*none\.json: cannot read it \(no such file\)/);
  });

  it('says where the JSON is broken', () => {
    expect(() => loadConfig(file('broken.json', '{"metrics": {'))).toThrowError(/^config .*broken\.json: not valid JSON/);
  });

  it('names the file and the field of a bad value', () => {
    expect(() => loadConfig(file('bad.json', '{"metrics": {"interval": "soon"}}'))).toThrowError(/^config .*bad\.json: metrics\.interval: "soon" is not a duration/);
  });

  it('lets flags override the file, field by field', () => {
    const path = file('ok.json', JSON.stringify({ metrics: { namespace: 'FromFile', interval: '30s' }, logs: { logV2: 'none' } }));
    const { config, source } = loadConfig(path, { metrics: { interval: '10s' } });
    expect(source).toBe(path);
    expect(config.metrics).toMatchObject({ namespace: 'FromFile', intervalSeconds: 10 });
    expect(config.logs.logV2).toBe('none');
  });

  it('names a bad flag value as a flag', () => {
    expect(() => loadConfig(file('empty.json', '{}'), { metrics: { endpointUrl: 'ftp://x' } })).toThrowError(/^--endpoint-url \/ --cloudwatch-endpoint-url \(metrics\.endpointUrl\) must be an http\(s\) URL/);
  });
});

/** Any C0 or C1 control character, DEL, or a line/paragraph separator: none may reach the terminal from a file. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('keys that name Object.prototype members', () => {
  const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

  it.each(keys)('rejects %s at the top level like any unknown key', (key) => {
    // JSON.parse, as loadConfig does: `__proto__` becomes an own key, not the prototype.
    expect(messageOf(() => validateConfig(JSON.parse(`{${JSON.stringify(key)}: 1}`)))).toBe(
      `${key} is not a setting (known: interface, attribution, attributionTimeout, stateDir, logs, identity, metrics)`,
    );
  });

  it.each(keys.flatMap((key) => ['logs', 'identity', 'metrics'].map((section) => [section, key])))('rejects %s.%s like any unknown key', (section, key) => {
    expect(messageOf(() => validateConfig(JSON.parse(`{"${section}": {${JSON.stringify(key)}: {"sink": "emf"}}}`)))).toMatch(
      new RegExp(`^${section}\\.${key} is not a setting \\(known: [A-Za-z0-9, ]+\\)$`),
    );
  });

  it.each([
    '{"__proto__": {"someInjectedKey": 1}}',
    '{"metrics": {"__proto__": {"someInjectedKey": 1}}}',
    '{"constructor": {"prototype": {"someInjectedKey": 1}}}',
    '{"logs": {"constructor": {"prototype": {"someInjectedKey": 1}}}}',
  ])('a file %s pollutes no prototype', (text) => {
    expect(messageOf(() => loadConfig(file('proto.json', text)))).toMatch(/is not a setting/);
    expect(messageOf(() => loadConfig(file('empty.json', '{}'), JSON.parse(text) as Record<string, unknown>))).toMatch(/is not a setting/);
    expect(({} as Record<string, unknown>)['someInjectedKey']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('someInjectedKey');
  });
});

describe('loadConfig: what an explicit file must hold', () => {
  it.each(['null', '[]', '"x"', '1', 'true', ' null \n'])('refuses %j: the config must be a JSON object', (text) => {
    const path = file('not-object.json', text);
    expect(messageOf(() => loadConfig(path))).toBe(`config ${path}: the config must be a JSON object`);
  });

  it.each(['', ' ', '\n', ' \t\r\n '])('refuses a file of only whitespace %j as empty', (text) => {
    const path = file('blank.json', text);
    expect(messageOf(() => loadConfig(path))).toBe(`config ${path}: the file is empty (a config of only the defaults is {})`);
  });

  it('refuses bytes that are not UTF-8 rather than reading them as U+FFFD', () => {
    const path = join(dir, 'latin1.json');
    writeFileSync(path, Buffer.concat([Buffer.from('{"interface": "'), Buffer.from([0xff, 0xfe, 0xe9]), Buffer.from('"}')]));
    expect(messageOf(() => loadConfig(path))).toBe(`config ${path}: not valid UTF-8 text`);
  });

  it.each([
    ['a directory', () => mkdtempSync(join(dir, 'adir-')), /: cannot read it \(it is a directory\)$/],
    ['a character device', () => '/dev/null', /: cannot read it \(it is a device, not a regular file\)$/],
  ])('refuses %s in one line', (_what, make, message) => {
    expect(messageOf(() => loadConfig(make()))).toMatch(message);
  });

  it('refuses a file over 1 MiB before parsing it', () => {
    const path = file('big.json', JSON.stringify({ interface: 'x'.repeat(MAX_CONFIG_BYTES) }));
    expect(messageOf(() => loadConfig(path))).toBe(`config ${path}: too large (${MAX_CONFIG_BYTES + 16} bytes; a config is at most 1 MiB)`);
  });

  const deep = (n: number, inner = ''): string => '['.repeat(n) + inner + ']'.repeat(n);
  it.each([
    [deep(100_000), /: the config must be a JSON object$/],
    [`{"metrics": {"sink": ${deep(100_000)}}}`, /: metrics\.sink must be one of cloudwatch, emf, none$/],
    [`{"nested": ${deep(100_000)}}`, /: nested is not a setting/],
    [`{"a":`.repeat(100_000) + '1' + '}'.repeat(100_000), /: a is not a setting/],
  ])('answers a deeply nested config in one line (%#)', (text, message) => {
    expect(messageOf(() => loadConfig(file('deep.json', text)))).toMatch(message);
  });

  it('turns a RangeError from JSON.parse (too deep for the stack) into the usage error', () => {
    const spy = vi.spyOn(JSON, 'parse').mockImplementationOnce(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    try {
      const path = file('deep.json', '[[[]]]');
      expect(messageOf(() => loadConfig(path))).toBe(`config ${path}: not valid JSON (nested too deeply)`);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('untrusted text in errors is escaped, one line, bounded', () => {
  it.each(([
    ['{"a\\nb": 1}', '"a\\nb" is not a setting (known: interface,'],
    ['{"\\u001b[31mred": 1}', '"\\u001b[31mred" is not a setting (known: interface,'],
    ['{"\\r\\u001b[2K": 1}', '"\\r\\u001b[2K" is not a setting'],
    ['{"\\u009b31m": 1}', '"\\u009b31m" is not a setting'],
    ['{"\\u202eevil": 1}', '"\\u202eevil" is not a setting'],
    ['{"a\\u2028b": 1}', '"a\\u2028b" is not a setting'],
    ['{"metrics.sink": 1}', '"metrics.sink" is not a setting'],
    ['{"metrics": {"a\\nb": 1}}', 'metrics."a\\nb" is not a setting (known: sink,'],
    ['{"logs": {"\\u001b]0;title\\u0007": 1}}', 'logs."\\u001b]0;title\\u0007" is not a setting'],
    ['{"metrics": {"interval": "\\u001b[2J5s"}}', 'metrics.interval: "\\u001b[2J5s" is not a duration'],
    [`{"${'k'.repeat(10_000)}": 1}`, `"${'k'.repeat(64)}"… (10000 characters) is not a setting (known: interface,`],
    [`{"metrics": {"interval": "${'9'.repeat(5000)}x"}}`, `metrics.interval: "${'9'.repeat(64)}"… (5001 characters) is not a duration`],
    ['{"\ud83d\ude00\\n": 1}', '"\ud83d\ude00\\n" is not a setting'],
    ['{"\\ud800x": 1}', '"\\ud800x" is not a setting'],
  ] satisfies [string, string][]).map(([text, shown]) => ({ text, shown, name: text.length > 80 ? `${text.slice(0, 40)}… (${text.length} chars)` : text })))('$name', ({ text, shown }) => {
    const path = file('escape.json', text);
    const message = messageOf(() => loadConfig(path));
    expect(message.startsWith(`config ${path}: ${shown}`)).toBe(true);
    expect(message).not.toMatch(RAW_CONTROL);
    expect(message.length).toBeLessThan(300);
  });

  it('escapes what JSON.parse quotes back from the file', () => {
    const path = file('c1.json', '\u009b31m');
    const message = messageOf(() => loadConfig(path));
    expect(message).toMatch(/^config .*c1\.json: not valid JSON \(.*\\x9b/);
    expect(message).not.toMatch(RAW_CONTROL);
  });

  it('escapes a path that holds a control character', () => {
    const path = join(dir, 'a\nb\u001b[31m.json');
    const shown = JSON.stringify(path); // "/tmp/…/a\nb\u001b[31m.json"
    expect(messageOf(() => loadConfig(path))).toBe(`config ${shown}: cannot read it (no such file)`);
    writeFileSync(path, '{"bogus": 1}');
    expect(messageOf(() => loadConfig(path))).toBe(`config ${shown}: bogus is not a setting (known: interface, attribution, attributionTimeout, stateDir, logs, identity, metrics)`);
  });
});

describe('config files that would lose or hide a setting', () => {
  it.each([
    ['{"metrics": {"sink": "emf"}, "metrics": {"namespace": "Team"}}', ': metrics is given twice (only one would count)'],
    ['{"metrics": {"sink": "emf", "sink": "none"}}', '"metrics.sink" is given twice'],
    ['{"interface": "eth0", "attribution": "auto", "interface": "eth1"}', 'interface is given twice'],
  ])('%s', (json, message) => {
    const path = join(mkdtempSync(join(tmpdir(), 'imds-sniff-dup-')), 'c.json');
    writeFileSync(path, json);
    expect(() => loadConfig(path)).toThrow(message);
  });

  it('takes the same key in different objects, and a key-like string value', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'imds-sniff-dup-')), 'c.json');
    writeFileSync(path, '{"identity": {"region": null}, "metrics": {"region": null, "namespace": "region"}}');
    expect(loadConfig(path).config.metrics.namespace).toBe('region');
  });

  it.each(['eth0\u001b]0;x\u0007', 'a/b', 'has space', 'x'.repeat(16), ''])('refuses the interface name %j', (name) => {
    expect(() => validateConfig({ interface: name })).toThrow(/interface must be an interface name/);
  });

  it.each(['any', 'eth0', 'ens5', 'veth1a2b3c4d', 'eth0.100', 'br-1234abcd'])('takes the interface name %s', (name) => {
    expect(validateConfig({ interface: name }).interface).toBe(name);
  });
});
