// Fuzz harness: the properties every input must keep — no exception, no hang, no secret in any output,
// no terminal control in human output, valid JSON lines, and the same output whatever buffer the frames came in.

import { findSecrets, maskSecrets } from './canaries.js';
import type { FeedResult } from './feed.js';
import type { FuzzOutputs } from './outputs.js';

/** The checks, by their stable names (used in reports and the benchmark's JSON). */
export const CHECK_NAMES = ['exception', 'hang', 'secret', 'control_char', 'bad_json', 'differential'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** One broken property of one input. `detail` never holds a whole secret. */
export interface CheckFailure {
  check: CheckName;
  detail: string;
}

/**
 * Characters a terminal acts on or that reorder what it shows: C0 (all of
 * them, tab and newline included: one table line is one line), DEL, C1, and
 * the bidi embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
 */
const CONTROL = /[\u0000-\u001f\u007f\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

const EXCERPT_CONTEXT = 40;

/** A control character written so a report can show it: `\x1b`, `\u{202e}`. */
function visible(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Text around `index`, secrets masked, controls made visible. */
export function excerpt(text: string, index: number, length = EXCERPT_CONTEXT): string {
  const from = Math.max(0, index - length);
  const to = Math.min(text.length, index + length);
  const escaped = (s: string): string => s.replace(new RegExp(CONTROL.source, 'g'), visible);
  return `${from > 0 ? '…' : ''}${escaped(maskSecrets(text.slice(from, to)))}${to < text.length ? '…' : ''}`;
}

/** Every output text with a label saying where it is (`json[2]`, `table[0]`, `summary[5]`). */
function labelled(outputs: FuzzOutputs): Array<[label: string, text: string, human: boolean]> {
  return [
    ...outputs.jsonLines.map((t, i): [string, string, boolean] => [`json[${i}]`, t, false]),
    ...outputs.tableLines.map((t, i): [string, string, boolean] => [`table[${i}]`, t, true]),
    ...outputs.summaryLines.map((t, i): [string, string, boolean] => [`summary[${i}]`, t, true]),
  ];
}

/** The output checks: secrets anywhere, controls in human output, JSON lines that parse. One failure per check at most. */
export function checkOutputs(outputs: FuzzOutputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const found = new Set<CheckName>();
  const fail = (check: CheckName, detail: string): void => {
    if (found.has(check)) return;
    found.add(check);
    failures.push({ check, detail });
  };
  for (const [label, text, human] of labelled(outputs)) {
    const secrets = findSecrets(text);
    if (secrets.length > 0) {
      const first = secrets.reduce((a, b) => (b.index < a.index ? b : a));
      fail('secret', `${label} (${secrets.map((s) => s.rule).join(', ')}): ${excerpt(text, first.index)}`);
    }
    if (human) {
      const m = CONTROL.exec(text);
      if (m) fail('control_char', `${label} has ${visible(m[0])}: ${excerpt(text, m.index)}`);
    }
  }
  if (outputs.summaryForgedLines !== 0) fail('control_char', `the summary has ${outputs.summaryForgedLines} line(s) more than its texts without control characters give: a field forged a line`);
  outputs.jsonLines.forEach((line, i) => {
    if (line.includes('\n')) fail('bad_json', `json[${i}] spans several lines`);
    try {
      JSON.parse(line);
    } catch (error) {
      fail('bad_json', `json[${i}] does not parse (${(error as Error).message}): ${excerpt(line, 0)}`);
    }
  });
  return failures;
}

/** The run checks: nothing thrown, and no input took longer than `maxInputMs`. */
export function checkRun(result: FeedResult, maxInputMs: number): CheckFailure[] {
  const failures: CheckFailure[] = [];
  if (result.error !== null) failures.push({ check: 'exception', detail: maskSecrets(result.error) });
  if (result.elapsedMs > maxInputMs) {
    failures.push({ check: 'hang', detail: `took ${result.elapsedMs.toFixed(0)} ms for ${result.frames} frames (limit ${maxInputMs} ms)` });
  }
  return failures;
}

/**
 * The differential check: the live path (one reused Buffer) must produce
 * exactly what fresh copies of the same frames produce — event JSON, table
 * lines and summary, in order.
 */
export function compareOutputs(reused: FuzzOutputs, fresh: FuzzOutputs): CheckFailure | null {
  for (const [label, a, b] of [
    ['json', reused.jsonLines, fresh.jsonLines],
    ['table', reused.tableLines, fresh.tableLines],
    ['summary', reused.summaryLines, fresh.summaryLines],
  ] as const) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a[i];
      const y = b[i];
      if (x === y) continue;
      let at = 0;
      while (x !== undefined && y !== undefined && at < x.length && x[at] === y[at]) at++;
      return {
        check: 'differential',
        detail:
          `${label}[${i}] differs (reused buffer: ${a.length} lines, fresh copies: ${b.length}): ` +
          `reused ${x === undefined ? '(none)' : excerpt(x, at)} | fresh ${y === undefined ? '(none)' : excerpt(y, at)}`,
      };
    }
  }
  return null;
}
