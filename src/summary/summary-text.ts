// sinks/: renders the end-of-capture summary for people (a ticket-ready block of text).

import type { SummaryEvent } from '../contract/output-events.js';
import { terminalSafe } from '../text/terminal-safe.js';

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

const VERDICT_TEXT: Record<SummaryEvent['processes'][number]['verdict'], string> = {
  uses_imdsv1: 'USES IMDSv1',
  hop_limit_failure: 'hop limit too low',
  imdsv2_only: 'ok (IMDSv2)',
  foreign_probe_only: 'ok (other cloud probe)',
  other: 'ok',
};

/**
 * The summary as text: host facts, a per-process table, the verdict and the fixes.
 * Names, paths and messages come from the wire, /proc or the command line: each
 * is escaped for the terminal where it is put in.
 */
export function renderSummary(s: SummaryEvent): string {
  const t = terminalSafe;
  const lines: string[] = [];
  lines.push('== imds-sniff summary ==');
  const hostLabel = s.file ? 'analysed on:' : 'host:       ';
  lines.push(`${hostLabel} ${t(s.host.hostname)}${s.host.instance_id ? ` (${t(s.host.instance_id)})` : ''}`);
  lines.push(`os:          ${t(s.host.os)}, kernel ${t(s.host.kernel)}`);
  lines.push(s.file ? `capture:     file ${t(s.file)}` : `capture:     interface ${t(s.interface ?? '')}, ${s.duration_s}s from ${s.started}`);
  const counts = Object.entries(s.attribution_counts ?? {}).map(([how, n]) => `${n} ${how}`);
  lines.push(`attribution: ${s.attribution_method}${counts.length > 0 ? ` (connections: ${counts.join(', ')})` : ''}`);
  // Only when it explains something: the trace lost events (a busy host), lookups gave up, or a reader was restarted.
  const trace = s.attribution_trace;
  if (trace && (trace.trace_lost_events > 0 || trace.lookups_timed_out > 0 || trace.trace_reader_restarts > 0)) {
    const restarts = trace.trace_reader_restarts > 0 ? `; ${trace.trace_reader_restarts} trace readers restarted` : '';
    lines.push(`             trace lost ${trace.trace_lost_events} of ${trace.trace_events + trace.trace_lost_events} events; ${trace.lookups_timed_out} lookups timed out${restarts}`);
  }
  if (s.attribution_errors) lines.push(`             ${s.attribution_errors.count} lookups failed (first: ${t(s.attribution_errors.first)})`);
  lines.push(`requests:    ${s.requests}${s.own_requests ? ` (+${s.own_requests} by imds-sniff itself, not counted)` : ''}`);
  const drops = Object.entries(s.capture.dropped).filter(([reason]) => !reason.startsWith('tcp_not_imds'));
  // A capture file cannot say what the kernel dropped: only a live capture shows that count.
  const kernel = s.file ? [] : [`kernel ${s.capture.kernel_drops}`];
  if (s.capture.kernel_drops > 0 || drops.length > 0) {
    lines.push(`dropped:     ${[...kernel, drops.map(([r, n]) => `${t(r)}=${n}`).join(', ')].filter(Boolean).join('; ')}`);
  }
  lines.push('');
  if (s.processes.length > 0) {
    // The FOREIGN column only when some process probed for another cloud: most hosts never see one.
    const foreign = s.processes.some((p) => p.foreign_probe > 0);
    const header = ['PROCESS', 'V1', 'V2-TOKEN', 'V2', ...(foreign ? ['FOREIGN'] : []), 'ERRORS', 'FIRST SEEN', 'LAST SEEN', 'VERDICT'];
    const rows = s.processes.map((p) => [
      t(p.name),
      String(p.v1),
      String(p.v2_token),
      String(p.v2_get),
      ...(foreign ? [String(p.foreign_probe)] : []),
      String(p.errors),
      p.first_seen.slice(11, 19),
      p.last_seen.slice(11, 19),
      VERDICT_TEXT[p.verdict],
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    for (const row of [header, ...rows]) lines.push(row.map((c, i) => pad(c, widths[i] as number)).join('  ').trimEnd());
    for (const p of s.processes.filter((x) => x.v1 > 0)) {
      const facts = [
        p.exe ? `exe ${t(p.exe)}` : '',
        p.pids.length > 0 ? `pids ${p.pids.join(',')}${p.pid_count > p.pids.length ? ' …' : ''}` : '',
        p.user ? `user ${t(p.user)}` : '',
        p.cmdline ? `cmdline ${p.cmdline.map(t).join(' ')}` : '',
      ].filter(Boolean);
      if (facts.length > 0) lines.push(`  ${t(p.name)}: ${facts.join('; ')}`);
    }
    for (const p of s.processes.filter((x) => x.foreign_probe > 0)) {
      lines.push(`  ${t(p.name)}: ${p.foreign_probe} probe${p.foreign_probe === 1 ? '' : 's'} for ${p.probe_clouds.join(', ')} metadata (another cloud's paths: not IMDSv1)`);
    }
    lines.push('');
  }
  lines.push(`verdict: ${t(s.verdict.message)}`);
  for (const fix of s.verdict.fixes) lines.push(`  fix: ${t(fix)}`);
  return lines.join('\n');
}
