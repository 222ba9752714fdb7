// config/: the agent's settings — types, defaults and what each field means (the file is JSON).

import { DEFAULT_METRICS_CONFIG, type MetricsConfig } from '../sinks/metrics/config.js';

/** Everything the daemon can be told. Durations are resolved to milliseconds/seconds here. */
export interface AgentConfig {
  /** Interface to capture on (`any` sees the host and containers behind a bridge). */
  interface: string;
  /** How requests are tied to processes. */
  attribution: 'auto' | 'tracefs' | 'procfs' | 'none';
  /** How long a request waits for its connection's owner. */
  attributionTimeoutMs: number;
  /** Directory of the state file (per-process totals, IMDSv1 last-seen) and the metrics buffer. */
  stateDir: string;
  logs: {
    /** Every request event as a JSON line (mode 0640); null: no events file. */
    eventsFile: string | null;
    /** IMDSv1, foreign_probe and other requests are always logged; IMDSv2 ones: each (`all`), only counted in the interval summary (`summary`), or not at all (`none`). */
    logV2: 'all' | 'summary' | 'none';
    /** How often a per-process summary line is written. */
    summaryIntervalSeconds: number;
  };
  identity: {
    /** Set to run off EC2, or to skip asking IMDS. */
    instanceId: string | null;
    region: string | null;
    /** How long to wait for IMDS before deciding this is not EC2. */
    timeoutMs: number;
  };
  /** The metrics sink's settings (documented in sinks/metrics/config.ts); the region may be left to the instance's own. */
  metrics: Omit<MetricsConfig, 'spoolDir' | 'region'> & { region: string | null };
}

// The spool lives under stateDir; the region defaults to the instance's own (null here).
const { spoolDir: _spoolDir, region: _region, ...METRICS_DEFAULTS } = DEFAULT_METRICS_CONFIG;

export const DEFAULT_CONFIG_PATH = '/etc/imds-sniff/config.json';

export const DEFAULT_CONFIG: AgentConfig = {
  interface: 'any',
  attribution: 'auto',
  attributionTimeoutMs: 500,
  stateDir: '/var/lib/imds-sniff',
  logs: { eventsFile: '/var/log/imds-sniff/events.jsonl', logV2: 'all', summaryIntervalSeconds: 60 },
  identity: { instanceId: null, region: null, timeoutMs: 1000 },
  metrics: { ...METRICS_DEFAULTS, region: null },
};
