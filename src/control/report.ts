// control/: renders what the control commands found — options, observation, gate — as a table for people or one JSON object.

import { describeOffender, formatDuration, type GateResult } from './gate.js';
import { describeOptions, type InstanceMetadataOptions, type MetadataOptions } from './metadata-options.js';
import type { Observation } from './observation.js';
import { ImdsSniffError } from '../errors.js';
import { jsonTerminalSafe, terminalSafe } from '../text/terminal-safe.js';

/** Options with EC2's field names, as the JSON output carries them. */
export function optionsJson(o: MetadataOptions | InstanceMetadataOptions): Record<string, unknown> {
  return {
    ...('state' in o ? { State: o.state } : {}),
    HttpTokens: o.httpTokens,
    HttpEndpoint: o.httpEndpoint,
    HttpPutResponseHopLimit: o.hopLimit,
    HttpProtocolIpv6: o.httpProtocolIpv6,
    InstanceMetadataTags: o.instanceMetadataTags,
  };
}

/** The observation in the JSON output (snake_case, like the state file). */
export function observationJson(o: Observation, nowMs: number): Record<string, unknown> {
  return {
    source: o.source,
    location: o.location,
    observing_since: o.observingSince,
    last_update: o.lastUpdate,
    agent_running: isRunning(o, nowMs),
    gaps: o.gaps,
    processes: o.processes.map((p) => ({
      process: p.name,
      v1: p.v1,
      v2_token: p.v2Token,
      v2_get: p.v2Get,
      foreign_probe: p.foreignProbes,
      hop_limit_exceeded: p.hopLimitExceeded,
      last_seen: p.lastSeen,
      last_v1_seen: p.lastV1Seen,
      last_hop_limit_exceeded: p.lastHopLimitExceeded,
    })),
  };
}

export function gateJson(g: GateResult): Record<string, unknown> {
  return { ok: g.ok, window_start: g.windowStart, reasons: g.reasons, offenders: g.offenders.map((p) => p.name), hop_limit_failures: g.hopLimitFailures.map((p) => p.name) };
}

/** The state file is rewritten every second and metrics every interval: a recent update means an agent is running. */
function isRunning(o: Observation, nowMs: number): boolean {
  if (o.lastUpdate === null) return false;
  return nowMs - Date.parse(o.lastUpdate) <= (o.source === 'state-file' ? 30_000 : 20 * 60_000);
}

/** `state file /var/lib/…: since …, last update … (agent running)` */
export function describeObservation(o: Observation, nowMs: number): string {
  if (o.observingSince === null || o.lastUpdate === null) return `${o.location}: nothing observed yet`;
  const running = isRunning(o, nowMs) ? 'agent running' : `agent not running for ${formatDuration(nowMs - Date.parse(o.lastUpdate))}`;
  return `${o.source === 'state-file' ? 'state file ' : ''}${o.location}: since ${o.observingSince}, last update ${o.lastUpdate} (${running})`;
}

/** The per-process table of an observation. */
export function processTable(o: Observation): string[] {
  if (o.processes.length === 0) return ['  (no IMDS calls recorded)'];
  const rows = [
    ['PROCESS', 'IMDSV1', 'LAST IMDSV1', 'TOKEN', 'IMDSV2', 'FOREIGN PROBES', 'HOP-LIMIT LOST', 'LAST SEEN'],
    ...o.processes.map((p) => [p.name, String(p.v1), p.lastV1Seen ?? '-', String(p.v2Token), String(p.v2Get), String(p.foreignProbes), p.hopLimitExceeded === null ? 'n/a' : String(p.hopLimitExceeded), p.lastSeen ?? '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()}`);
}

/** The gate's lines: window, each reason. */
export function gateLines(g: GateResult): string[] {
  const lines = [`gate          ${g.ok ? 'passes' : 'refuses'} (window since ${g.windowStart})`];
  for (const reason of g.reasons) lines.push(`  - ${reason}`);
  if (g.ok && g.offenders.length === 0 && g.mode === 'require-tokens') lines.push('  - no IMDSv1 call in the window');
  if (g.hopLimitFailures.length > 0) lines.push(`  - hop-limit failures: ${g.hopLimitFailures.map((p) => describeOffender(p, 'hop-limit')).join(', ')}`);
  return lines;
}

export function optionsLine(o: InstanceMetadataOptions): string {
  return `${describeOptions(o)} State=${o.state}`;
}

/** Prints a result: the JSON object, or the lines. */
export function printResult(format: 'table' | 'json', json: Record<string, unknown>, lines: string[]): void {
  // Process names come from a state file or CloudWatch: nothing in them may act on the terminal.
  process.stdout.write(format === 'json' ? `${jsonTerminalSafe(JSON.stringify(json))}\n` : `${lines.map(terminalSafe).join('\n')}\n`);
}

/** What a command has found so far, as its JSON object and its table lines; each way it ends adds a result. */
export interface Report {
  format: 'table' | 'json';
  json: Record<string, unknown>;
  lines: string[];
}

/**
 * Prints the report with how it ended: `{…, "result": result, …more.json}`, or
 * the lines, `more.lines`, then `result  <more.text or result>`. With the
 * error the run ends with, the JSON carries its `error_code` and `exit_code`
 * (main.ts then prints no second JSON object for it).
 */
export function printOutcome(report: Report, result: string, more: { json?: Record<string, unknown>; lines?: string[]; text?: string; error?: unknown } = {}): void {
  const error = more.error instanceof ImdsSniffError ? more.error : null;
  const failure = error === null ? {} : { error_code: error.code, exit_code: error.exitCode };
  printResult(report.format, { ...report.json, result, ...more.json, ...failure }, [...report.lines, ...(more.lines ?? []), `result        ${more.text ?? result}`]);
  if (error !== null && report.format === 'json') error.reported = true;
}
