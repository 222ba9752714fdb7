// text/: makes untrusted text safe to show to a person: no terminal control, no forged line.

/**
 * C0 controls (newline and tab included), DEL, C1 controls, and the Unicode
 * format characters that reorder or hide text (bidi overrides and isolates,
 * zero-width marks, the BOM, line/paragraph separators).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

/**
 * Text from the wire, /proc, a file name or a config file, escaped for a
 * terminal: every control or invisible format character becomes a visible
 * escape (`\e`, `\n`, `\x07`, `\u{202e}`), so a User-Agent, argv or file name
 * chosen by any process on the host can neither move the cursor, change
 * colours, nor start a line of its own.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Escapes the characters `JSON.stringify` leaves raw but a terminal acts on (DEL, C1, bidi), keeping the JSON valid and equal. */
export function jsonTerminalSafe(json: string): string {
  return json.replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
