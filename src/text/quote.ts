// text/: shows untrusted text (config keys and values, file paths, parser messages) quoted in a one-line error.

import { jsonTerminalSafe, terminalSafe } from './terminal-safe.js';

/** Longest untrusted text shown, in characters: enough to recognise a key or a value. */
export const MAX_SHOWN_CHARS = 64;

/**
 * `text` double-quoted and escaped as in JSON, plus the controls JSON leaves raw; longer than
 * `maxChars` characters it is cut, marked `…` and its length given: `"kkkk"… (10000 characters)`.
 */
export function quote(text: string, maxChars = MAX_SHOWN_CHARS): string {
  const chars = text.length > maxChars ? Array.from(text) : null; // code points: never split a surrogate pair
  const cut = chars !== null && chars.length > maxChars;
  const shown = jsonTerminalSafe(JSON.stringify(cut ? chars.slice(0, maxChars).join('') : text));
  return cut ? `${shown}… (${chars.length} characters)` : shown;
}

/** A config key as it reads in an error: plain when it is a short name (`intervall`), else quoted (`"a\nb"`). */
export function showKey(key: string): string {
  return /^[A-Za-z0-9_$-]{1,64}$/.test(key) ? key : quote(key);
}

/** A file path as it reads in an error: as typed, unless it holds a control character (then quoted, never cut). */
export function showPath(path: string): string {
  return terminalSafe(path) !== path ? quote(path, Infinity) : path;
}

/** `text` as one POSIX shell word: bare when it is only safe characters, else single-quoted. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
