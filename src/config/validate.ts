// config/: checks an untrusted JSON config against the schema; every error names its field.

import { UsageError } from '../errors.js';
import { parseDuration } from './duration.js';
import { showKey } from '../text/quote.js';
import { DEFAULT_CONFIG, type AgentConfig } from './schema.js';

type Json = Record<string, unknown>;

/** One rule per field: turns the JSON value into the typed one, or says what is wrong. */
type Rule = (value: unknown, field: string) => unknown;

const string: Rule = (v, f) => (typeof v === 'string' && v !== '' ? v : fail(f, 'must be a non-empty string'));
const nullableString: Rule = (v, f) => (v === null ? null : string(v, f));
const bool: Rule = (v, f) => (typeof v === 'boolean' ? v : fail(f, 'must be true or false'));
const oneOf = (...choices: string[]): Rule => (v, f) => (typeof v === 'string' && choices.includes(v) ? v : fail(f, `must be one of ${choices.join(', ')}`));
const integer = (min: number, max: number): Rule => (v, f) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? v : fail(f, `must be an integer from ${min} to ${max}`);
/** A duration string ("90s", "10m") or a number of seconds. */
const duration = (unit: 'ms' | 's', minMs: number, maxMs: number): Rule => (v, f) => {
  let ms: number;
  if (typeof v === 'number' && Number.isFinite(v)) ms = v * 1000;
  else if (typeof v === 'string') ms = parseDuration(v, f);
  else return fail(f, 'must be a duration such as "60s" or a number of seconds');
  if (ms < minMs || ms > maxMs) fail(f, `must be from ${minMs / 1000}s to ${maxMs / 1000}s`);
  return unit === 'ms' ? Math.round(ms) : Math.round(ms / 1000);
};
/** A Linux interface name (at most 15 bytes, no '/', no whitespace) or `any`; control characters would only fail at capture. */
const interfaceName: Rule = (v, f) => (typeof v === 'string' && /^[!-.0-~]{1,15}$/.test(v) ? v : fail(f, 'must be an interface name (1-15 printable characters, no "/" or spaces) or "any"'));
const region: Rule = (v, f) => (v === null ? null : typeof v === 'string' && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(v) ? v : fail(f, 'must be a region such as "us-east-1" or null'));
const instanceId: Rule = (v, f) => (v === null ? null : typeof v === 'string' && /^i-[0-9a-f]{8,17}$/.test(v) ? v : fail(f, 'must be an instance id such as "i-0123456789abcdef0" or null'));
const url: Rule = (v, f) => (v === null ? null : typeof v === 'string' && /^https?:\/\/\S+$/.test(v) ? v : fail(f, 'must be an http(s) URL or null'));

function fail(field: string, what: string): never {
  throw new UsageError(`${field} ${what}`);
}

/** File key → [typed key, rule], per section. Keys not listed are rejected (a typo must not pass silently). */
const TOP_RULES: Record<string, [keyof AgentConfig, Rule]> = {
  interface: ['interface', interfaceName],
  attribution: ['attribution', oneOf('auto', 'tracefs', 'procfs', 'none')],
  attributionTimeout: ['attributionTimeoutMs', duration('ms', 10, 10_000)],
  stateDir: ['stateDir', string],
};
const SECTION_RULES: Record<string, Record<string, [string, Rule]>> = {
  logs: {
    eventsFile: ['eventsFile', nullableString],
    logV2: ['logV2', oneOf('all', 'summary', 'none')],
    summaryInterval: ['summaryIntervalSeconds', duration('s', 1000, 86_400_000)],
  },
  identity: {
    instanceId: ['instanceId', instanceId],
    region: ['region', region],
    timeout: ['timeoutMs', duration('ms', 100, 30_000)],
  },
  metrics: {
    sink: ['sink', oneOf('cloudwatch', 'emf', 'none')],
    namespace: ['namespace', (v, f) => (typeof v === 'string' && /^[A-Za-z0-9._/#:-]{1,255}$/.test(v) && !v.startsWith('AWS/') ? v : fail(f, 'must be 1-255 of A-Z a-z 0-9 . _ / # : - and not start with AWS/'))],
    interval: ['intervalSeconds', duration('s', 1000, 3_600_000)],
    maxProcesses: ['maxProcesses', integer(1, 500)],
    includeAutoScalingGroup: ['includeAutoScalingGroup', bool],
    endpointUrl: ['endpointUrl', url],
    region: ['region', region],
    emfFile: ['emfFile', string],
    // CloudWatch refuses datapoints older than 14 days: keeping them longer would only drop them later.
    bufferMaxAge: ['bufferMaxAgeSeconds', duration('s', 60_000, 14 * 86_400_000)],
    bufferMaxBytes: ['bufferMaxBytes', integer(64 * 1024, 10 * 1024 ** 3)],
    maxAttempts: ['maxAttempts', integer(1, 20)],
  },
};
// Looked up through Maps, never by indexing the objects: a key from the file such as `constructor`
// or `__proto__` would find Object.prototype's members there.
const TOP = new Map(Object.entries(TOP_RULES));
const SECTIONS = new Map(Object.entries(SECTION_RULES).map(([name, rules]) => [name, new Map(Object.entries(rules))]));

/**
 * The typed config from parsed JSON, defaults filled in. Throws UsageError
 * naming the first bad field (`metrics.interval must be …`).
 */
export function validateConfig(json: unknown): AgentConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('the config', 'must be a JSON object');
  const config: AgentConfig = structuredClone(DEFAULT_CONFIG);
  for (const [key, value] of Object.entries(json as Json)) {
    const top = TOP.get(key);
    if (top) {
      (config as unknown as Json)[top[0]] = top[1](value, key);
      continue;
    }
    const section = SECTIONS.get(key);
    // The key comes from the file: shown escaped, so a newline or an ESC in it reaches no terminal.
    if (!section) fail(showKey(key), `is not a setting (known: ${[...TOP.keys(), ...SECTIONS.keys()].join(', ')})`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(key, 'must be an object');
    const target = (config as unknown as Record<string, Json>)[key] as Json;
    for (const [sub, subValue] of Object.entries(value as Json)) {
      const rule = section.get(sub);
      if (!rule) fail(`${key}.${showKey(sub)}`, `is not a setting (known: ${[...section.keys()].join(', ')})`);
      target[rule[0]] = rule[1](subValue, `${key}.${sub}`);
    }
  }
  return config;
}
