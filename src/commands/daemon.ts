// commands/: `imds-sniff daemon` — the long-running service: capture, events log, state file, CloudWatch metrics; its flags and help.

import { Option } from 'commander';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OwnProgram } from '../attribute/own-program.js';
import { selectSocketOwnerFinder } from '../attribute/select-finder.js';
import type { SocketOwnerFinder } from '../attribute/types.js';
import { ImdsClient } from '../aws/imds-client.js';
import { discoverIdentity, waitForIdentity, type InstanceIdentity } from '../aws/instance-identity.js';
import { loadConfig, overridesFromFlags, type ConfigFlags } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { collectHostFacts, localAddresses } from '../pipeline/host-facts.js';
import { runLiveSession } from '../pipeline/session.js';
import { EventsLog } from '../sinks/events-log.js';
import type { MetricsConfig } from '../sinks/metrics/config.js';
import { AwaitingIdentitySink } from '../sinks/metrics/awaiting-identity.js';
import type { MetricsSink } from '../sinks/metrics/metrics-sink.js';
import type { Sink } from '../contract/sink.js';
import { StateFile } from '../sinks/state-file.js';
import type { StatusLog } from '../log/status-log.js';
import { assertCanCapture } from './privileges.js';
import type { Register } from './register.js';
import { stopOnSignals } from './signals.js';

/** Request events held for the metrics while the identity is unknown (about 1 KiB each). */
const HELD_EVENTS_MAX = 10_000;

function logIdentity(log: StatusLog, identity: InstanceIdentity): void {
  log.info({ instanceId: identity.instanceId, region: identity.region, accountId: identity.accountId, instanceType: identity.instanceType, autoScalingGroup: identity.autoScalingGroupName, note: identity.note || undefined }, 'identity');
}

export interface DaemonFlags extends ConfigFlags {
  config?: string;
  /** Written (the pid) once the capture is open, removed at stop: the unit's readiness signal. */
  readyFile?: string;
}

const DAEMON_HELP = `
Runs until SIGTERM or SIGINT (then flushes metrics, the state file and logs and exits 0).
SIGHUP reopens the events log (logrotate) and reloads the config file.
Flags override the config file (default /etc/imds-sniff/config.json; see README "Configuration").

Examples:
  imds-sniff daemon
  imds-sniff daemon --config /etc/imds-sniff/config.json --metrics-sink emf
  imds-sniff daemon --endpoint-url http://127.0.0.1:5000 --instance-id i-0123456789abcdef0 --region us-east-1`;

/** The ready file, or a status line saying why it could not be written or removed (never fatal). */
function markReady(file: string | undefined, ready: boolean, log: StatusLog): void {
  if (file === undefined) return;
  try {
    if (ready) writeFileSync(file, `${process.pid}\n`, { mode: 0o644 });
    else rmSync(file, { force: true });
  } catch (error) {
    log.warn({ file, error: (error as Error).message }, ready ? 'cannot write the ready file' : 'cannot remove the ready file');
  }
}

/** The metrics sink's settings, or why metrics stay off (not on EC2 and no identity given). */
function metricsSettings(config: AgentConfig, identity: InstanceIdentity): { settings: MetricsConfig; disabled: string | null } {
  const region = config.metrics.region ?? identity.region;
  let sink = config.metrics.sink;
  let disabled: string | null = null;
  if (sink !== 'none' && identity.instanceId === null) {
    disabled = 'no instance id (not on EC2? set identity.instanceId)';
    sink = 'none';
  } else if (sink === 'cloudwatch' && region === null) {
    disabled = 'no region (set metrics.region or identity.region)';
    sink = 'none';
  }
  return {
    settings: { ...config.metrics, sink, region: region ?? '', spoolDir: join(config.stateDir, 'metrics-spool') },
    disabled,
  };
}

function reload(flags: DaemonFlags, current: AgentConfig, log: StatusLog): AgentConfig {
  try {
    const next = loadConfig(flags.config, overridesFromFlags(flags)).config;
    const needsRestart = (['interface', 'attribution', 'attributionTimeoutMs', 'stateDir', 'identity', 'metrics'] as const).filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]),
    );
    if (needsRestart.length > 0) log.warn({ fields: needsRestart }, 'config changed in fields that take effect at the next restart');
    return next;
  } catch (error) {
    log.error({ error: (error as Error).message }, 'config reload failed; keeping the running config');
    return current;
  }
}

/** The agent's own footprint, in each interval summary line: what an operator (and the soak benchmark) watches for growth. */
function agentFootprint(state: StateFile): { rss_mib: number; heap_used_mib: number; external_mib: number; state_names: number } {
  const { rss, heapUsed, external } = process.memoryUsage();
  const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
  return { rss_mib: mib(rss), heap_used_mib: mib(heapUsed), external_mib: mib(external), state_names: state.processCount };
}

export async function runDaemon(flags: DaemonFlags): Promise<ExitCodeValue> {
  // Loaded only by this command: pino (~35 MiB with the CloudWatch client) would weigh on every other one.
  const [{ createStatusLog }, { createMetricsSink }] = await Promise.all([import('../log/status-log.js'), import('../sinks/create-metrics-sink.js')]);
  const loaded = loadConfig(flags.config, overridesFromFlags(flags));
  let config = loaded.config;
  assertCanCapture();
  const log = createStatusLog();
  // Until the real handler is in place, a logrotate SIGHUP must not kill the daemon (the default action).
  let onHup: () => void = () => log.info('SIGHUP before start-up finished: nothing to reopen yet');
  const hupListener = (): void => onHup();
  process.on('SIGHUP', hupListener);
  log.info({ config: loaded.source ?? 'defaults' }, 'imds-sniff daemon starting');
  const dirs = [config.stateDir, config.logs.eventsFile && dirname(config.logs.eventsFile), config.metrics.sink === 'emf' && dirname(config.metrics.emfFile)];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
    } catch (error) {
      log.error({ dir, error: (error as Error).message }, 'cannot create a directory the daemon writes to');
    }
  }

  const ownPorts = new Set<number>();
  const imds = new ImdsClient(config.identity.timeoutMs, ownPorts);
  const identity =
    config.identity.instanceId !== null && config.identity.region !== null
      ? { instanceId: config.identity.instanceId, region: config.identity.region, accountId: null, instanceType: null, autoScalingGroupName: null, onEc2: false, note: 'from config' }
      : await discoverIdentity(imds, config.identity);
  logIdentity(log, identity);
  const metrics = metricsSettings(config, identity);
  // No instance id yet (at boot IMDS may not answer before the network is up): hold the metrics and ask again.
  const awaitIdentity = metrics.disabled !== null && identity.instanceId === null && config.metrics.sink !== 'none';
  if (awaitIdentity) log.warn({ reason: metrics.disabled }, 'metrics held until IMDS gives the instance identity; asking again in the background');
  else if (metrics.disabled) log.warn({ reason: metrics.disabled }, 'metrics publishing disabled');

  const now = new Date();
  const state = new StateFile(join(config.stateDir, 'state.json'), now, (message) => log.warn(message));
  const openEvents = (c: AgentConfig, atMs: number): EventsLog | null =>
    c.logs.eventsFile ? new EventsLog(c.logs.eventsFile, c.logs.logV2, c.logs.summaryIntervalSeconds, (p) => log.warn(p.message), atMs) : null;
  let events = openEvents(config, now.getTime());
  const makeMetricsSink = (settings: MetricsConfig, id: InstanceIdentity): MetricsSink =>
    createMetricsSink(settings, { instanceId: id.instanceId ?? 'unknown', autoScalingGroupName: id.autoScalingGroupName }, { log, resumeOpenInterval: state.state.extra['metrics_open_interval'] });
  let metricsSink: MetricsSink | null = awaitIdentity ? null : makeMetricsSink(metrics.settings, identity);
  const awaiting = awaitIdentity ? new AwaitingIdentitySink(HELD_EVENTS_MAX) : null;
  // The events log can be swapped by SIGHUP (a new path): the pipeline writes through this.
  const eventsSink: Sink = { write: (e) => events?.write(e), close: async () => {} };
  const sinks: Sink[] = [state, awaiting ?? (metricsSink as MetricsSink), eventsSink];

  const signals = stopOnSignals();
  // Set first thing at stop: an identity that comes while the daemon stops starts no metrics.
  let stopping = false;
  if (awaiting) {
    const startedMs = Date.now();
    // The identity came late: the metrics sink is made now, and gets the held requests first.
    const startMetrics = (found: InstanceIdentity): void => {
      logIdentity(log, { ...found, note: `${found.note ? `${found.note}; ` : ''}found ${Math.round((Date.now() - startedMs) / 1000)} s after start` });
      const late = metricsSettings(config, found);
      if (late.disabled !== null) {
        log.warn({ reason: late.disabled }, 'metrics publishing disabled');
        awaiting.attach({ write: () => {}, close: async () => {} });
        return;
      }
      metricsSink = makeMetricsSink(late.settings, found);
      metricsSink.start();
      const { held, dropped } = awaiting.attach(metricsSink);
      log.info({ held, dropped, metrics: late.settings.sink }, 'metrics publishing started');
    };
    void waitForIdentity(imds, config.identity, signals.stop)
      .then((found) => {
        if (found !== null && !stopping) startMetrics(found);
      })
      .catch((error: unknown) => log.error({ error: (error as Error).message }, 'metrics could not be started once the identity came'));
  }
  let finder: SocketOwnerFinder | null = null;
  onHup = (): void => {
    const previous = config;
    config = reload(flags, config, log);
    const same = previous.logs.eventsFile === config.logs.eventsFile && previous.logs.summaryIntervalSeconds === config.logs.summaryIntervalSeconds;
    if (same && events) {
      events.reopen(config.logs.logV2);
    } else {
      const old = events;
      if (config.logs.eventsFile) mkdirSync(dirname(config.logs.eventsFile), { recursive: true, mode: 0o750 });
      events = openEvents(config, Date.now());
      void old?.close();
    }
    log.info({ eventsFile: config.logs.eventsFile, logV2: config.logs.logV2 }, 'SIGHUP: events log reopened, config reloaded');
  };
  let lastStateWrite = 0;
  let stateWriteFailing = false;
  // The state file is the enforce gate's evidence: it says "observed" only while the capture is open,
  // so a daemon that cannot capture (crash-looping under systemd) never looks like observation.
  let capturing = false;
  const saveState = (at: Date): void => {
    // While the metrics wait for the identity, the previous run's open interval stays saved.
    if (metricsSink) state.setExtra('metrics_open_interval', metricsSink.exportOpenInterval());
    try {
      state.flush(at);
      if (stateWriteFailing) log.info('the state file can be written again');
      stateWriteFailing = false;
    } catch (error) {
      if (!stateWriteFailing) log.warn({ error: (error as Error).message }, 'cannot write the state file (said once until it works again)');
      stateWriteFailing = true;
    }
  };
  const ticker = setInterval(() => {
    const at = new Date();
    const summary = events?.tick(at.getTime());
    if (summary) log.info({ interval_start: summary.interval_start, processes: summary.processes, agent: agentFootprint(state) }, 'interval summary');
    if (capturing && at.getTime() - lastStateWrite >= 1000) {
      lastStateWrite = at.getTime();
      saveState(at);
    }
  }, 1000);
  try {
    if (config.attribution !== 'none') {
      const selected = await selectSocketOwnerFinder({ preferred: config.attribution });
      finder = selected.finder;
      log.info({ method: selected.method, reason: selected.reason }, 'attribution');
    }
    metricsSink?.start();
    const summary = await runLiveSession({
      interfaceName: config.interface,
      durationMs: null,
      finder,
      attributionNote: finder ? finder.method : 'disabled',
      attributionTimeoutMs: config.attributionTimeoutMs,
      localAddresses: localAddresses(),
      ownLocalPorts: ownPorts,
      ownProgram: OwnProgram.current(),
      stop: signals.stop,
      sinks,
      afterOpen: async () => {
        capturing = true;
        const sink = awaitIdentity ? `${config.metrics.sink} (held until the instance identity is known)` : metrics.settings.sink;
        log.info({ interface: config.interface, stateDir: config.stateDir, eventsFile: config.logs.eventsFile, metrics: sink }, 'capturing');
        markReady(flags.readyFile, true, log);
        return identity.instanceId;
      },
      hostFacts: collectHostFacts,
    });
    log.info({ requests: summary.requests, verdict: summary.verdict.message }, 'stopping');
    return ExitCode.OK;
  } finally {
    stopping = true;
    clearInterval(ticker);
    markReady(flags.readyFile, false, log);
    signals.dispose();
    if (awaiting?.waiting) log.warn({ held: awaiting.heldCount }, 'stopped before IMDS gave the instance identity: the held requests are in the events log, not in the metrics');
    await (awaiting ?? metricsSink)?.close();
    if (capturing) saveState(new Date());
    await events?.close();
    await finder?.close();
    log.info({ metrics: metricsSink?.stats ?? null, droppedLogLines: events?.droppedLines ?? 0 }, 'stopped');
    process.off('SIGHUP', hupListener);
  }
}

export const daemon: Register = (program, setResult) => {
  program
    .command('daemon')
    .alias('run')
    .description('run as a service: events log, state file and per-process CloudWatch metrics')
    .option('-c, --config <file>', 'config file (default /etc/imds-sniff/config.json)')
    .option('-i, --interface <name>', 'interface to capture on')
    .addOption(new Option('--attribution <method>', 'how requests are tied to processes').choices(['auto', 'tracefs', 'procfs', 'none']))
    .option('--events-file <file>', 'events log file, or "none"')
    .addOption(new Option('--log-v2 <mode>', 'IMDSv2 requests in the events log').choices(['all', 'summary', 'none']))
    .option('--state-dir <dir>', 'state file and metrics buffer directory')
    .addOption(new Option('--metrics-sink <sink>', 'where metrics go').choices(['cloudwatch', 'emf', 'none']))
    .option('--namespace <name>', 'CloudWatch namespace')
    .option('--interval <time>', 'metrics interval (e.g. 60s)')
    .option('--endpoint-url <url>', 'CloudWatch endpoint (VPC endpoint, tests)')
    .option('--region <region>', 'AWS region (default: the instance\'s own)')
    .option('--instance-id <id>', 'instance id (default: from IMDS)')
    .option('--ready-file <file>', 'write this file (the pid) once capturing, remove it at stop (systemd ExecStartPost waits for it)')
    .addHelpText('after', DAEMON_HELP)
    .action((flags: DaemonFlags) => setResult(runDaemon(flags)));
};
