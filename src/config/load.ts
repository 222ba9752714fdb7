// config/: builds the one AgentConfig from the config file and the command-line flags (flags win).

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';
import { showKey, showPath } from '../text/quote.js';
import { firstDuplicateKey } from './duplicate-keys.js';
import { terminalSafe } from '../text/terminal-safe.js';
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

/** A config is a few hundred bytes; the bound keeps a wrong --config (a log, a disk image) from filling memory. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** What the file held, or that it is absent (only the default file may be). */
type ConfigFile = { found: false } | { found: true; json: unknown };

const ERRNO_REASONS = new Map([
  ['ENOENT', 'no such file'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['EISDIR', 'it is a directory'],
  ['ENOTDIR', 'a parent is not a directory'],
  ['ELOOP', 'too many symbolic links'],
]);

/** An fs error as a few words; the code alone when it has none (Node's own message repeats the path). */
function reasonOf(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  return ERRNO_REASONS.get(code ?? '') ?? code ?? terminalSafe(String((cause as Error)?.message).slice(0, 200));
}

/** Why a path that is not a regular file cannot be a config; null for a regular file. */
function notRegular(stats: Stats): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'it is a directory';
  if (stats.isFIFO()) return 'it is a FIFO, not a regular file';
  if (stats.isSocket()) return 'it is a socket, not a regular file';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'it is a device, not a regular file';
  return 'it is not a regular file';
}

/**
 * The file's bytes, or null when it is absent and `mayBeAbsent`. Never blocks: the type is checked
 * before opening (opening a FIFO waits for a writer; opening a device may act on it), the open is
 * non-blocking, and fstat checks again what was opened, in case the path changed in between.
 */
function readConfigBytes(path: string, shown: string, mayBeAbsent: boolean): Buffer | null {
  const cannotRead = (why: string, cause?: unknown): UsageError => new UsageError(`config ${shown}: cannot read it (${why})`, { cause });
  const refuse = (stats: Stats): void => {
    const why = notRegular(stats);
    if (why !== null) throw cannotRead(why);
    if (stats.size > MAX_CONFIG_BYTES) throw new UsageError(`config ${shown}: too large (${stats.size} bytes; a config is at most 1 MiB)`);
  };
  let fd: number;
  try {
    refuse(statSync(path));
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && mayBeAbsent) return null;
    throw cannotRead(reasonOf(cause), cause);
  }
  try {
    refuse(fstatSync(fd));
    // Read to the end rather than trust st_size (a file may grow, /proc files say 0), one byte past the bound.
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_CONFIG_BYTES) throw new UsageError(`config ${shown}: too large (more than 1 MiB)`);
    return buffer.subarray(0, length);
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw cannotRead(reasonOf(cause), cause);
  } finally {
    closeSync(fd);
  }
}

/** JSON's own whitespace (RFC 8259 section 2): a file of only this has no value in it. */
const JSON_WHITESPACE_ONLY = /^[ \t\r\n]*$/;

function readConfigFile(path: string, shown: string, mayBeAbsent: boolean): ConfigFile {
  const bytes = readConfigBytes(path, shown, mayBeAbsent);
  if (bytes === null) return { found: false };
  let text: string;
  try {
    // fatal: bytes that are not UTF-8 must not become U+FFFD in a setting (an interface name, a path).
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new UsageError(`config ${shown}: not valid UTF-8 text`, { cause });
  }
  if (JSON_WHITESPACE_ONLY.test(text)) throw new UsageError(`config ${shown}: the file is empty (a config of only the defaults is {})`);
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (cause) {
    // V8's message may quote the text around the fault: escaped and cut, as anything from the file.
    const why = cause instanceof RangeError ? 'nested too deeply' : terminalSafe(String((cause as Error)?.message).slice(0, 200));
    throw new UsageError(`config ${shown}: not valid JSON (${why})`, { cause });
  }
  // JSON.parse keeps the last of two equal keys: the first one's settings would be dropped without a word.
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== null) throw new UsageError(`config ${shown}: ${showKey(duplicate)} is given twice (only one would count)`);
  return { found: true, json };
}

/** `over` laid on `base`, section by section. Own keys only, into null-prototype objects: no key can reach a prototype. */
function merge(base: Json, over: Json): Json {
  const out: Json = Object.assign(Object.create(null) as Json, base);
  for (const [key, value] of Object.entries(over)) {
    const current = Object.hasOwn(out, key) ? out[key] : undefined;
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
 * Reads `path` (the default file may be absent; an explicit one may not, and
 * nothing but an absent default file means the defaults), validates it, then
 * applies `overrides` from flags. Throws UsageError that names the file and the field.
 */
export function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): LoadedConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  const shown = showPath(file);
  const read = readConfigFile(file, shown, path === undefined);
  if (read.found) withPrefix(`config ${shown}: `, () => validateConfig(read.json));
  try {
    validateConfig(overrides);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(nameTheFlag(error.message), { hint: error.hint, cause: error });
    throw error;
  }
  // validateConfig accepted the file: it is an object.
  return { config: validateConfig(merge(read.found ? (read.json as Json) : {}, overrides)), source: read.found ? file : null };
}

/** The flag that sets each config field (overridesFromFlags), for errors about a flag's value. */
const FLAG_OF_FIELD = new Map(Object.entries({
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
}));

/** `identity.region must be …` → `--region (identity.region) must be …`: the operator typed the flag, not the field. */
function nameTheFlag(message: string): string {
  const field = /^[A-Za-z.]+/.exec(message)?.[0] ?? '';
  const flag = FLAG_OF_FIELD.get(field);
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
