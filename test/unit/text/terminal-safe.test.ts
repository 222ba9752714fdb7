import { describe, expect, it } from 'vitest';
import { jsonTerminalSafe, terminalSafe } from '../../../src/text/terminal-safe.js';

describe('terminalSafe', () => {
  it.each([
    ['plain text', 'curl/8.0 /latest/meta-data', 'curl/8.0 /latest/meta-data'],
    ['ESC colour sequences', 'a\u001b[31mred\u001b[0m', 'a\\x1b[31mred\\x1b[0m'],
    ['a newline that would forge a line', 'x\nverdict: safe', 'x\\nverdict: safe'],
    ['CR, tab, BEL, NUL, DEL', '\r\t\u0007\u0000\u007f', '\\r\\t\\x07\\x00\\x7f'],
    ['C1 CSI', 'a\u009b31m', 'a\\x9b31m'],
    ['bidi overrides and isolates', 'abc\u202edcba\u2066x\u2069', 'abc\\u202edcba\\u2066x\\u2069'],
    ['zero-width and BOM', 'a\u200bb\ufeff', 'a\\u200bb\\ufeff'],
    ['ordinary non-ASCII', 'Zürich – 東京', 'Zürich – 東京'],
  ])('%s', (_name, input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });
});

describe('jsonTerminalSafe', () => {
  it('escapes what JSON.stringify leaves raw, and the JSON still parses to the same value', () => {
    const value = { ua: 'a\u009b31m\u202e\u007f\u2028', esc: '\u001b[31m' };
    const json = jsonTerminalSafe(JSON.stringify(value));
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});
