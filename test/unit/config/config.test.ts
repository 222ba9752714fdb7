import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';

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
