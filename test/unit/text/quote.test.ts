import { describe, expect, it } from 'vitest';
import { quote, showKey, showPath } from '../../../src/text/quote.js';
import { terminalSafe as escapeControls } from '../../../src/text/terminal-safe.js';

describe('quote', () => {
  // Labelled rows: a title holding the raw text would put its controls on the test runner's terminal.
  it.each([
    ['a plain name', 'interval', '"interval"'],
    ['a newline', 'a\nb', '"a\\nb"'],
    ['an ESC sequence', '\u001b[31mred', '"\\u001b[31mred"'],
    ['quotes and a backslash', 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
    ['DEL and C1 controls (U+009B is CSI)', '\u007f\u0085\u009b', '"\\u007f\\u0085\\u009b"'],
    ['line and paragraph separators', 'a\u2028b\u2029c', '"a\\u2028b\\u2029c"'],
    ['bidi controls', '\u202eabc\u2066\u200f\u061c', '"\\u202eabc\\u2066\\u200f\\u061c"'],
    ['a lone surrogate', '\ud800', '"\\ud800"'],
    ['an emoji (a surrogate pair)', '\ud83d\ude00', '"\ud83d\ude00"'],
    ['64 characters, whole', 'k'.repeat(64), `"${'k'.repeat(64)}"`],
    ['10 000 characters, cut', 'k'.repeat(10_000), `"${'k'.repeat(64)}"… (10000 characters)`],
    // cut by code points: the pair at the cut stays whole
    ['65 emoji, cut between pairs', '\ud83d\ude00'.repeat(65), `"${'\ud83d\ude00'.repeat(64)}"… (65 characters)`],
  ])('%s', (_what, text, shown) => {
    expect(quote(text)).toBe(shown);
  });

  it('keeps every result on one line, free of controls', () => {
    let all = '';
    for (let c = 0; c < 0x10000; c++) all += String.fromCharCode(c);
    expect(quote(all, Infinity)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('showKey, showPath, escapeControls', () => {
  it.each([
    ['intervall', 'intervall'],
    ['__proto__', '__proto__'],
    ['max-attempts_2', 'max-attempts_2'],
    ['', '""'],
    ['a b', '"a b"'],
    ['metrics.sink', '"metrics.sink"'],
    ['a\nb', '"a\\nb"'],
  ])('showKey(%j) → %s', (key, shown) => expect(showKey(key)).toBe(shown));

  it.each([
    ['a plain path', '/etc/imds-sniff/config.json', '/etc/imds-sniff/config.json'],
    ['a path with a space', '/tmp/my config.json', '/tmp/my config.json'],
    ['a path with a newline', '/tmp/a\nb.json', '"/tmp/a\\nb.json"'],
    ['a long path with ESC, never cut', `/tmp/${'d'.repeat(300)}\u001b.json`, `"/tmp/${'d'.repeat(300)}\\u001b.json"`],
  ])('showPath: %s', (_what, path, shown) => expect(showPath(path)).toBe(shown));

  it.each([
    ["V8's message quoting a C1 CSI", 'Unexpected token \'\u009b\', "\u009b31m" is not valid JSON', 'Unexpected token \'\\x9b\', "\\x9b31m" is not valid JSON'],
    ['CR, LF, TAB and NUL', 'a\r\n\tb\u0000', 'a\\r\\n\\tb\\x00'],
  ])('escapeControls: %s', (_what, text, shown) => expect(escapeControls(text)).toBe(shown));
});
