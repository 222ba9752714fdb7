// fleet/render/: pure: the fleet report as one self-contained HTML page: totals, IMDSv1 calls over time per process and per wave, sortable tables, the fix list.

import { createHash } from 'node:crypto';
import type { FleetReport } from '../report/model.js';
import { verdictWords } from './report.js';

/** Text for HTML content and attribute values. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLOURS = ['#d62728', '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const SERIES_SHOWN = 8;

/** A line chart of daily values as inline SVG; the biggest `SERIES_SHOWN` series, the rest summed as "other". */
function lineChart(title: string, days: number[], series: Record<string, number[]>, id: string): string {
  const ranked = Object.entries(series).map(([name, values]) => ({ name, values, sum: values.reduce((a, b) => a + b, 0) }))
    .filter((s) => s.sum > 0).sort((a, b) => b.sum - a.sum || a.name.localeCompare(b.name));
  const shown = ranked.slice(0, SERIES_SHOWN);
  const rest = ranked.slice(SERIES_SHOWN);
  if (rest.length > 0) shown.push({ name: `other (${rest.length})`, values: days.map((_, i) => rest.reduce((a, s) => a + (s.values[i] ?? 0), 0)), sum: rest.reduce((a, s) => a + s.sum, 0) });
  const w = 720;
  const h = 220;
  const pad = { l: 56, r: 12, t: 12, b: 28 };
  const max = Math.max(1, ...shown.flatMap((s) => s.values));
  const x = (i: number): number => pad.l + (days.length <= 1 ? 0 : (i * (w - pad.l - pad.r)) / (days.length - 1));
  const y = (v: number): number => h - pad.b - (v * (h - pad.t - pad.b)) / max;
  const lines = shown.map((s, k) => `<polyline fill="none" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="2" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}: ${s.sum} calls</title></polyline>`).join('');
  const labels = days.map((d, i) => (i === 0 || i === days.length - 1 || i % 7 === 0 ? `<text x="${x(i).toFixed(1)}" y="${h - 8}" text-anchor="middle">${esc(new Date(d).toISOString().slice(5, 10))}</text>` : '')).join('');
  const axis = `<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#999"/><text x="${pad.l - 6}" y="${pad.t + 10}" text-anchor="end">${max}</text><text x="${pad.l - 6}" y="${h - pad.b}" text-anchor="end">0</text>`;
  const legend = shown.map((s, k) => `<li><span class="swatch" style="background:${COLOURS[k % COLOURS.length]}"></span>${esc(s.name)} <span class="n">${s.sum}</span></li>`).join('');
  const body = shown.length === 0 ? '<p class="none">No IMDSv1 calls in the window.</p>'
    : `<svg id="${id}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">${axis}${labels}${lines}</svg><ul class="legend">${legend}</ul>`;
  return `<section><h2>${esc(title)}</h2>${body}</section>`;
}

function table(id: string, header: string[], rows: (string | number)[][]): string {
  const head = header.map((h, i) => `<th data-col="${i}" tabindex="0">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}" class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * Sorts a table when its header is clicked (numbers as numbers), or as the address says
 * (#sort=TABLE:COLUMN:asc|desc, a link to a sorted view); nothing else runs on the page.
 */
const SCRIPT = `function sortBy(th, asc) {
  var table = th.closest('table'), body = table.tBodies[0], col = Number(th.dataset.col);
  table.querySelectorAll('th').forEach(function (o) { o.removeAttribute('aria-sort'); });
  th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = a.cells[col].textContent, y = b.cells[col].textContent, nx = Number(x), ny = Number(y);
    var c = (x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
    return asc ? c : -c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
}
document.querySelectorAll('table.sortable th').forEach(function (th) {
  function sort() { sortBy(th, th.getAttribute('aria-sort') !== 'ascending'); }
  th.addEventListener('click', sort);
  th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
});
var wanted = /^#sort=([a-z-]+):(\\d+):(asc|desc)$/.exec(location.hash);
if (wanted) {
  var th = document.querySelector('table#' + wanted[1] + ' th[data-col="' + wanted[2] + '"]');
  if (th) sortBy(th, wanted[3] === 'asc');
}`;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4;cursor:pointer}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}td.n{text-align:right}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px}.card b{display:block;font-size:22px}svg{max-width:760px;font-size:10px}.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:10px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}.none{color:#666}code{font-size:12px}`;

/** The page. Its Content-Security-Policy allows only its own style and the sorting script (by hash): no request leaves it. */
export function reportHtml(r: FleetReport): string {
  const hash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:`;
  const cards = Object.entries(r.totals.byVerdict).map(([v, n]) => `<div class="card" data-verdict="${esc(v)}"><b>${n}</b>${esc(verdictWords(v as keyof typeof r.totals.byVerdict))}</div>`).join('');
  const waves = table('waves', ['wave', 'instances', 'ready', 'blocked'], (['0', '1', '2'] as const).map((w) => [w, r.totals.byWave[w].instances, r.totals.byWave[w].ready, r.totals.byWave[w].blocked]));
  const processes = table('processes', ['program', 'process names', 'instances', 'IMDSv1 calls', 'fix'], r.processes.map((p) => [p.program, p.process, p.instances, p.calls, p.fix]));
  const paths = table('launch-paths', ['account', 'region', 'kind', 'name', 'new launches', 'fix'], r.launchPaths.map((p) => [p.account, p.region, p.kind, p.name, p.newLaunches, p.fix ?? '']));
  const instances = table('instances', ['account', 'region', 'instance', 'name', 'wave', 'verdict', 'IMDSv1 calls', 'detail'], r.instances.map((v) => [
    v.instance.account, v.instance.region, v.instance.id, v.instance.name ?? '', v.wave, verdictWords(v.verdict), v.v1Calls, v.detail,
  ]));
  const byWave = Object.fromEntries(Object.entries(r.daily.byWave).map(([w, values]) => [`wave ${w}`, values]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<title>imds-sniff fleet report ${esc(r.generatedAt.slice(0, 10))}</title><style>${STYLE}</style></head>
<body>
<h1>IMDSv1 fleet report</h1>
<p>${r.instances.length} instances, ${r.windowDays} days to ${esc(r.generatedAt)}.${r.expiredExceptions.length > 0 ? ` Expired exceptions: ${esc(r.expiredExceptions.join(', '))}.` : ''}</p>
<div class="cards" id="verdicts">${cards}</div>
${lineChart('IMDSv1 calls per day, per process', r.daily.days, r.daily.byProcess, 'chart-process')}
${lineChart('IMDSv1 calls per day, per wave', r.daily.days, byWave, 'chart-wave')}
<section><h2>Waves</h2>${waves}</section>
<section><h2>Processes still calling IMDSv1, and the fix</h2>${processes}</section>
<section><h2>Launch paths</h2>${paths}</section>
<section><h2>Instances</h2>${instances}</section>
<script>${SCRIPT}</script>
</body></html>
`;
}
