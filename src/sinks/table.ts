// sinks/: human output: one readable line per request as it happens, then the summary.

import type { ImdsRequestEvent } from '../contract/imds-request-event.js';
import type { Sink } from '../contract/sink.js';
import type { OutputEvent } from '../contract/output-events.js';
import { LineWriter } from './line-writer.js';
import { renderSummary } from '../summary/summary-text.js';
import { terminalSafe } from '../text/terminal-safe.js';

const KIND_LABEL: Record<ImdsRequestEvent['kind'], string> = {
  v1: 'IMDSv1  ',
  v2_token: 'v2-token',
  v2_get: 'v2      ',
  foreign_probe: 'foreign ',
  other: 'other   ',
};

/** One line for one request. Every field from the wire or /proc is escaped for the terminal. */
export function formatRequestLine(e: ImdsRequestEvent): string {
  const t = terminalSafe;
  const time = e.time.slice(11, 23);
  const who =
    e.pid !== null
      ? `${t(e.comm ?? '?')}[${e.pid}]${e.user ? ` ${t(e.user)}` : e.uid !== null ? ` uid=${e.uid}` : ''}${e.attribution === 'exited' ? ' (exited)' : ''}`
      : e.comm !== null
        ? `${t(e.comm)}[?]`
        : e.attribution === 'none'
          ? '-'
          : `unattributed (${e.attribution})`;
  const where = `${e.container_id ? ` container=${t(e.container_id.slice(0, 12))}` : ''}${e.container_pid !== null ? ` container_pid=${e.container_pid}` : ''}`;
  const status = e.status === null ? '---' : String(e.status);
  const flags = [
    e.hop_limit_exceeded ? 'HOP-LIMIT: answer lost at container hop' : '',
    e.probe_cloud !== null ? `(${e.probe_cloud} metadata probe, not IMDSv1)` : '',
    e.own ? '(imds-sniff itself)' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const client = e.src_ip.includes(':') ? `[${e.src_ip}]:${e.src_port}` : `${e.src_ip}:${e.src_port}`;
  return `${t(time)}  ${KIND_LABEL[e.kind]}  ${status}  ${t(e.method).padEnd(4)} ${t(e.path)}  ${who}${where}  ${t(client)}${flags ? `  ${flags}` : ''}`;
}

/** Writes the human format to stdout or to an open file. */
export class TableSink implements Sink {
  private readonly out: LineWriter;

  /** @param fd an open file descriptor (1 for stdout). */
  constructor(fd: number, onFailure?: (error: NodeJS.ErrnoException) => void) {
    this.out = new LineWriter(fd, onFailure);
  }

  /** The first write error, or null. */
  get failure(): NodeJS.ErrnoException | null {
    return this.out.failure;
  }

  write(event: OutputEvent): void {
    switch (event.event) {
      case 'imds_request':
        this.out.write(`${formatRequestLine(event)}\n`);
        break;
      case 'start':
        this.out.write(
          `imds-sniff ${event.version}: ${event.mode === 'live' ? `capturing on ${terminalSafe(event.interface ?? '')}` : `reading ${terminalSafe(event.file ?? '')}`}` +
            `${event.duration_s ? ` for ${event.duration_s}s` : ''}; attribution: ${event.attribution_method} (${terminalSafe(event.attribution_note)})\n`,
        );
        break;
      case 'warning':
        this.out.write(`warning: ${terminalSafe(event.message)}\n`);
        break;
      case 'summary':
        this.out.write(`\n${renderSummary(event)}\n`);
        break;
    }
  }

  async close(): Promise<void> {
    this.out.close();
  }
}
