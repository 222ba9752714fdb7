// control/: what `status`, `enforce` and `rollback` share — flags, config, which instance, the EC2 client, what the agent observed.

import { join } from 'node:path';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { controlCredentials, type AwsCredentialIdentityProvider } from '../aws/control-credentials.js';
import { createEc2Client } from '../aws/ec2-client.js';
import { ImdsClient } from '../aws/imds-client.js';
import { discoverIdentity } from '../aws/instance-identity.js';
import { createCloudWatchReader } from '../aws/cloudwatch-reader.js';
import { loadConfig, overridesFromFlags } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { ChangeLog } from './change-log.js';
import { observationFromState, type Observation } from './observation.js';
import { readObservedMetrics } from './observed-metrics.js';
import { UsageError } from '../errors.js';
import { readState } from '../contract/agent-state.js';

/** Flags every control command takes. */
export interface ControlFlags {
  config?: string;
  stateDir?: string;
  eventsFile?: string;
  instanceId?: string;
  region?: string;
  endpointUrl?: string;
  cloudwatchEndpointUrl?: string;
  format: 'table' | 'json';
}

/** The instance acted on, and whether it is the one this command runs on (then IMDS can be checked here). */
export interface ControlTarget {
  instanceId: string;
  region: string;
  local: boolean;
}

export interface ControlContext {
  config: AgentConfig;
  /** This host's own instance id (IMDSv2), or null off EC2 / with IMDS off. */
  selfInstanceId: string | null;
  /** Why selfInstanceId is null. */
  selfNote: string;
  region: string | null;
  changeLog: ChangeLog;
  statePath: string;
  endpointUrl: string | null;
  /** The SDK chain, with the instance role read by imds-sniff itself (its IMDS calls marked as its own). */
  credentials: AwsCredentialIdentityProvider;
  ec2(region: string): EC2Client;
  /**
   * Takes the state directory's change lock (ChangeLog.lock) if not held yet:
   * called before the first write, so a command that refuses or only reads
   * creates nothing. Released by holdingChangeLock.
   */
  lockChanges(): void;
  releaseChanges(): void;
}

/** Reads flags, config and (IMDSv2) this host's identity. Throws UsageError on bad flags. */
export async function controlContext(flags: ControlFlags): Promise<ControlContext> {
  if (flags.endpointUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(flags.endpointUrl)) throw new UsageError(`--endpoint-url: "${flags.endpointUrl}" is not an http(s) URL`);
  // --instance-id and --region are checked by the config's own rules; the target itself comes from the flags below.
  const { config } = loadConfig(
    flags.config,
    overridesFromFlags({ stateDir: flags.stateDir, eventsFile: flags.eventsFile, endpointUrl: flags.cloudwatchEndpointUrl, instanceId: flags.instanceId, region: flags.region }),
  );
  const imds = new ImdsClient(config.identity.timeoutMs, new Set());
  const identity = await discoverIdentity(imds, { instanceId: null, region: null }, { autoScalingGroup: false });
  const credentials = controlCredentials(imds);
  const region = flags.region ?? identity.region ?? config.identity.region ?? config.metrics.region;
  const clients = new Map<string, EC2Client>();
  const endpointUrl = flags.endpointUrl ?? null;
  const changeLog = new ChangeLog(join(config.stateDir, 'changes.json'));
  let release: (() => void) | null = null;
  return {
    config,
    selfInstanceId: identity.instanceId,
    selfNote: identity.onEc2 ? '' : identity.note,
    region,
    changeLog,
    statePath: join(config.stateDir, 'state.json'),
    endpointUrl,
    credentials,
    ec2(r: string): EC2Client {
      let client = clients.get(r);
      if (client === undefined) clients.set(r, (client = createEc2Client(r, endpointUrl, credentials)));
      return client;
    },
    lockChanges(): void {
      release ??= changeLog.lock();
    },
    releaseChanges(): void {
      release?.();
      release = null;
    },
  };
}

/** The region to act in (--region, else this host's own); throws a usage error when there is none. */
export function requireRegion(ctx: ControlContext): string {
  if (ctx.region === null) throw new UsageError('no region: give --region', { hint: 'the region is read from IMDS on an instance' });
  return ctx.region;
}

/** The instance to act on: --instance-id, or this host's own. Throws a clear error off EC2. */
export function resolveTarget(ctx: ControlContext, flags: Pick<ControlFlags, 'instanceId'>): ControlTarget {
  const instanceId = flags.instanceId ?? ctx.selfInstanceId;
  if (instanceId === null) {
    throw new UsageError('ERR_NOT_ON_EC2', `cannot tell which instance this is: ${ctx.selfNote || 'IMDS did not answer'}`, {
      hint: 'on an instance, check `imds-sniff doctor`; from elsewhere, give --instance-id and --region',
    });
  }
  return { instanceId, region: requireRegion(ctx), local: instanceId === ctx.selfInstanceId };
}

/**
 * What the agent observed about `target`: this host's state file when the
 * target is this host, else the target's metrics in CloudWatch since `startMs`.
 */
export async function observe(ctx: ControlContext, target: ControlTarget, startMs: number, nowMs: number): Promise<Observation> {
  if (target.local) {
    try {
      return observationFromState(readState(ctx.statePath), ctx.statePath);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new UsageError('ERR_STATE_UNREADABLE', `cannot read the agent's state file ${ctx.statePath} (${code === 'EACCES' ? 'permission denied' : (cause as Error).message})`, {
        hint: 'run as root, or point --state-dir / --config at the daemon\'s state directory',
        cause,
      });
    }
  }
  const source = { region: target.region, endpointUrl: ctx.config.metrics.endpointUrl, namespace: ctx.config.metrics.namespace };
  return readObservedMetrics(createCloudWatchReader(source, ctx.credentials), source, target.instanceId, startMs, nowMs);
}
