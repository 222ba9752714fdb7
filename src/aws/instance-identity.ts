// aws/: who this instance is (id, region, account, type, Auto Scaling group), from IMDS or from config.

import { ImdsClient } from './imds-client.js';

export interface InstanceIdentity {
  instanceId: string | null;
  region: string | null;
  accountId: string | null;
  instanceType: string | null;
  /** From the instance tag aws:autoscaling:groupName; needs instance metadata tags enabled. */
  autoScalingGroupName: string | null;
  /** IMDS answered. */
  onEc2: boolean;
  /** Why something is missing, for the start-up log. */
  note: string;
}

interface IdentityDocument {
  instanceId?: string;
  region?: string;
  accountId?: string;
  instanceType?: string;
}

/**
 * Asks IMDS (IMDSv2) for the identity document and the Auto Scaling group tag;
 * values given in `overrides` win and are used alone when IMDS does not answer.
 */
export async function discoverIdentity(
  client: ImdsClient,
  overrides: { instanceId: string | null; region: string | null },
  /** The control commands need no group name: skip that round trip. */
  options: { autoScalingGroup: boolean } = { autoScalingGroup: true },
): Promise<InstanceIdentity> {
  let doc: IdentityDocument = {};
  let onEc2 = false;
  let note = '';
  try {
    const text = await client.get('/latest/dynamic/instance-identity/document');
    onEc2 = true;
    doc = text ? (JSON.parse(text) as IdentityDocument) : {};
  } catch (error) {
    note = `no answer from IMDS (${(error as Error).message}): not on EC2?`;
  }
  let autoScalingGroupName: string | null = null;
  if (onEc2 && options.autoScalingGroup) {
    try {
      autoScalingGroupName = (await client.get('/latest/meta-data/tags/instance/aws:autoscaling:groupName'))?.trim() || null;
      if (autoScalingGroupName === null) note = 'no Auto Scaling group (or instance metadata tags are off)';
    } catch {
      note = 'instance metadata tags unavailable';
    }
  }
  return {
    instanceId: overrides.instanceId ?? doc.instanceId ?? null,
    region: overrides.region ?? doc.region ?? null,
    accountId: doc.accountId ?? null,
    instanceType: doc.instanceType ?? null,
    autoScalingGroupName,
    onEc2,
    note,
  };
}

/** Only the instance id, for the one-shot capture's summary. */
export async function fetchInstanceId(timeoutMs: number, ownPorts: Set<number>): Promise<string | null> {
  try {
    const id = (await new ImdsClient(timeoutMs, ownPorts).get('/latest/meta-data/instance-id'))?.trim() ?? null;
    return id !== null && /^i-[0-9a-f]{8,32}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * Asks IMDS for the identity again and again (after 2 s, then twice as long each time, at most
 * `maxDelayMs` apart) until it gives an instance id, or resolves null once `stop` settles. For a
 * daemon that started before the network was up, as it does at boot.
 */
export async function waitForIdentity(
  client: ImdsClient,
  overrides: { instanceId: string | null; region: string | null },
  stop: Promise<unknown>,
  maxDelayMs = 60_000,
): Promise<InstanceIdentity | null> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  for (let delayMs = 2000; ; delayMs = Math.min(delayMs * 2, maxDelayMs)) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, delayMs))), stop]);
    clearTimeout(timer);
    if (stopped) return null;
    const identity = await discoverIdentity(client, overrides);
    if (stopped) return null;
    if (identity.instanceId !== null) return identity;
  }
}
