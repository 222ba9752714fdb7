// text/: makes untrusted text safe to show to a person: no terminal control, no forged line.

/**
 * What a terminal may act on, or what would break or reorder a line: C0 controls
 * (newline and tab included), DEL, C1 controls (U+009B is CSI on some terminals),
 * zero-width and bidi marks, line/paragraph separators, the BOM, lone surrogates.
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same set without C0, which `JSON.stringify` escapes itself. */
const UNSAFE_IN_JSON =
  /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const short = SHORT[c];
  if (short !== undefined) return short;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text from the wire, /proc, a file name or a config file, escaped for a
 * terminal: every control or invisible format character becomes a visible
 * escape (`\x1b`, `\n`, `\x07`, `\u202e`), so a User-Agent, argv or file name
 * chosen by any process on the host can neither move the cursor, change
 * colours, reorder text, nor start a line of its own.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** `text` with every character a terminal may act on replaced by `?`: for values stored in the event contract. */
export function withoutControls(text: string): string {
  return text.replace(UNSAFE, '?');
}

/** Escapes the characters `JSON.stringify` leaves raw but a terminal acts on (DEL, C1, bidi), keeping the JSON valid and equal. */
export function jsonTerminalSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
