// config/: the agent's settings — types, defaults and what each field means (the file is JSON).

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
    /** IMDSv1 requests are always logged; IMDSv2 ones: each (`all`), only counted in the interval summary (`summary`), or not at all (`none`). */
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
  metrics: {
    /** `cloudwatch` (PutMetricData), `emf` (Embedded Metric Format lines for the CloudWatch agent) or `none`. */
    sink: 'cloudwatch' | 'emf' | 'none';
    namespace: string;
    intervalSeconds: number;
    /** Process dimensions per instance; the rest are counted as Process=other. */
    maxProcesses: number;
    /** Also publish the aggregates with an AutoScalingGroupName dimension. */
    includeAutoScalingGroup: boolean;
    /** CloudWatch endpoint (VPC endpoint, tests); null: the SDK's default. */
    endpointUrl: string | null;
    /** Region for CloudWatch; null: the instance's own. */
    region: string | null;
    emfFile: string;
    /** Unsent intervals are kept on disk this long at most… */
    bufferMaxAgeSeconds: number;
    /** …and in at most this many bytes; past either, the oldest are dropped (and logged). */
    bufferMaxBytes: number;
    /** Attempts per PutMetricData call before the interval waits for the next flush. */
    maxAttempts: number;
  };
}

export const DEFAULT_CONFIG_PATH = '/etc/imds-sniff/config.json';

export const DEFAULT_CONFIG: AgentConfig = {
  interface: 'any',
  attribution: 'auto',
  attributionTimeoutMs: 500,
  stateDir: '/var/lib/imds-sniff',
  logs: { eventsFile: '/var/log/imds-sniff/events.jsonl', logV2: 'all', summaryIntervalSeconds: 60 },
  identity: { instanceId: null, region: null, timeoutMs: 1000 },
  metrics: {
    sink: 'cloudwatch',
    namespace: 'IMDSSniff',
    intervalSeconds: 60,
    maxProcesses: 20,
    includeAutoScalingGroup: false,
    endpointUrl: null,
    region: null,
    emfFile: '/var/log/imds-sniff/metrics.emf.jsonl',
    bufferMaxAgeSeconds: 86_400,
    bufferMaxBytes: 50 * 1024 * 1024,
    maxAttempts: 5,
  },
};
