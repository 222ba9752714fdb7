// config/: builds the one AgentConfig from the config file and the command-line flags (flags win).

import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { DEFAULT_CONFIG_PATH, type AgentConfig } from './schema.js';
import { validateConfig } from './validate.js';

type Json = Record<string, unknown>;

/** Config-file keys set by flags, in the file's own shape ({ metrics: { interval: "10s" } }). */
export type ConfigOverrides = Json;

export interface LoadedConfig {
  config: AgentConfig;
  /** The file read, or null when the default file is absent and defaults apply. */
  source: string | null;
}

function readJson(path: string, explicit: boolean): Json | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return null;
    throw new UsageError(`config ${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (cause as Error).message})`, { cause });
  }
  try {
    return JSON.parse(text) as Json;
  } catch (cause) {
    throw new UsageError(`config ${path}: not valid JSON (${(cause as Error).message})`, { cause });
  }
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Json, value as Json)
        : value;
  }
  return out;
}

function withPrefix<T>(prefix: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${prefix}${error.message}`, { hint: error.hint, cause: error });
    throw error;
  }
}

/**
 * Reads `path` (the default file may be absent; an explicit one may not),
 * validates it, then applies `overrides` from flags. Throws UsageError that
 * names the file and the field.
 */
export function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): LoadedConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  const json = readJson(file, path !== undefined);
  if (json !== null) withPrefix(`config ${file}: `, () => validateConfig(json));
  try {
    validateConfig(overrides);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(nameTheFlag(error.message), { hint: error.hint, cause: error });
    throw error;
  }
  return { config: validateConfig(merge(json ?? {}, overrides)), source: json === null ? null : file };
}

/** The flag that sets each config field (overridesFromFlags), for errors about a flag's value. */
const FLAG_OF_FIELD: Record<string, string> = {
  interface: '--interface',
  attribution: '--attribution',
  stateDir: '--state-dir',
  'logs.eventsFile': '--events-file',
  'logs.logV2': '--log-v2',
  'metrics.sink': '--metrics-sink',
  'metrics.namespace': '--namespace',
  'metrics.interval': '--interval',
  'metrics.endpointUrl': '--endpoint-url / --cloudwatch-endpoint-url',
  'identity.region': '--region',
  'identity.instanceId': '--instance-id',
};

/** `identity.region must be …` → `--region (identity.region) must be …`: the operator typed the flag, not the field. */
function nameTheFlag(message: string): string {
  const field = /^[A-Za-z.]+/.exec(message)?.[0] ?? '';
  const flag = FLAG_OF_FIELD[field];
  return flag === undefined ? `flag: ${message}` : `${flag} (${field})${message.slice(field.length)}`;
}

/** Command-line flags that set config fields (`--events-file none` means no events file). */
export interface ConfigFlags {
  interface?: string;
  attribution?: string;
  eventsFile?: string;
  logV2?: string;
  stateDir?: string;
  metricsSink?: string;
  namespace?: string;
  interval?: string;
  /** CloudWatch endpoint (metrics.endpointUrl). */
  endpointUrl?: string;
  region?: string;
  instanceId?: string;
}

/** Flags in the config file's own shape, so one validator checks both. */
export function overridesFromFlags(f: ConfigFlags): ConfigOverrides {
  const o: Record<string, Record<string, unknown> | unknown> = {};
  const section = (name: string): Record<string, unknown> => ((o[name] ??= {}) as Record<string, unknown>);
  if (f.interface !== undefined) o['interface'] = f.interface;
  if (f.attribution !== undefined) o['attribution'] = f.attribution;
  if (f.stateDir !== undefined) o['stateDir'] = f.stateDir;
  if (f.eventsFile !== undefined) section('logs')['eventsFile'] = f.eventsFile === 'none' ? null : f.eventsFile;
  if (f.logV2 !== undefined) section('logs')['logV2'] = f.logV2;
  if (f.metricsSink !== undefined) section('metrics')['sink'] = f.metricsSink;
  if (f.namespace !== undefined) section('metrics')['namespace'] = f.namespace;
  if (f.interval !== undefined) section('metrics')['interval'] = f.interval;
  if (f.endpointUrl !== undefined) section('metrics')['endpointUrl'] = f.endpointUrl;
  if (f.region !== undefined) section('identity')['region'] = f.region;
  if (f.instanceId !== undefined) section('identity')['instanceId'] = f.instanceId;
  return o;
}
