// fleet/render/: pure: rows as aligned columns for a terminal, every cell escaped.

import { terminalSafe } from '../../text/terminal-safe.js';

/** Columns padded to their widest cell; the last column is not padded. */
export function textTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => terminalSafe(String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}
