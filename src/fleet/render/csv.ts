// fleet/render/: pure: RFC 4180 CSV, with cells that a spreadsheet would run as a formula defused.

/** One CSV cell: quoted when needed; a leading = + - @ (tab, CR) gets a ' so a spreadsheet shows it as text. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header and rows as CSV text, CRLF line ends. */
export function csv(header: string[], rows: (string | number | boolean | null)[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
