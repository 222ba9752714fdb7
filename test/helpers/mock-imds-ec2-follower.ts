// Test helper: a mock IMDS plug-in that follows an EC2 API (moto), polling DescribeInstances and applying the MetadataOptions.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestbedError } from '../../src/errors.js';
import { validateMockImdsPatch, type MockImdsOptions, type MockImdsOptionsPatch } from '../../src/testbed/mock-imds-options.js';
import type { MockImdsPlugin, MockImdsPluginHost } from '../../src/testbed/mock-imds-process.js';

/**
 * MetadataOptions of one instance as DescribeInstances returns them (the SDK's
 * InstanceMetadataOptionsResponse fits). Declared here, not taken from control/: the mock
 * is the oracle the control commands are tested against, so it reads EC2 on its own.
 */
export interface Ec2MetadataOptions {
  State?: string;
  HttpTokens?: string;
  HttpEndpoint?: string;
  HttpPutResponseHopLimit?: number;
  HttpProtocolIpv6?: string;
  InstanceMetadataTags?: string;
}

/** Which instance to read, and where. */
export interface Ec2FollowTarget {
  endpoint: string;
  region: string;
  instanceId: string;
}

/** Reads one instance's MetadataOptions; resolves undefined when DescribeInstances does not list the instance. */
export interface Ec2MetadataOptionsReader {
  read(target: Ec2FollowTarget): Promise<Ec2MetadataOptions | undefined>;
  /** Releases clients (sockets); called on stop. */
  close(): void;
}

/** The options the follower owns, mapped from EC2 names. */
export type FollowedOptions = Pick<MockImdsOptions, 'httpTokens' | 'httpEndpoint' | 'hopLimit' | 'instanceMetadataTags'>;

/** A DescribeInstances call that hangs longer than this counts as a failed poll. */
const DESCRIBE_TIMEOUT_MS = 5_000;
/** Distinct poll errors remembered for "log once"; more than this and the memory starts over. */
const MAX_REMEMBERED_ERRORS = 100;

/**
 * What EC2 applies for a MetadataOptions field left out (EC2 API reference,
 * InstanceMetadataOptionsRequest; HttpTokens for an AMI not marked ImdsSupport v2.0).
 * HttpProtocolIpv6 is not followed: the testbed's mock always answers on fd00:ec2::254 too.
 */
const EC2_DEFAULTS = {
  HttpTokens: 'optional',
  HttpEndpoint: 'enabled',
  HttpPutResponseHopLimit: 1,
  InstanceMetadataTags: 'disabled',
} as const;

/**
 * Maps MetadataOptions to mock options the way IMDS sees them. A missing field is EC2's
 * default (EC2_DEFAULTS); moto's ModifyInstanceMetadataOptions drops every field it was
 * not given. Returns null while State is "pending": EC2 documents that the instance then
 * still serves the old settings. Throws TestbedError for a value the mock cannot serve
 * (moto accepts hop limit 99) or does not know: nothing is coerced.
 */
export function followedOptions(metadata: Ec2MetadataOptions | undefined): FollowedOptions | null {
  if (metadata?.State === 'pending') return null;
  const wanted = {
    httpTokens: metadata?.HttpTokens ?? EC2_DEFAULTS.HttpTokens,
    httpEndpoint: metadata?.HttpEndpoint ?? EC2_DEFAULTS.HttpEndpoint,
    hopLimit: metadata?.HttpPutResponseHopLimit ?? EC2_DEFAULTS.HttpPutResponseHopLimit,
    instanceMetadataTags: metadata?.InstanceMetadataTags ?? EC2_DEFAULTS.InstanceMetadataTags,
  };
  try {
    return validateMockImdsPatch(wanted) as FollowedOptions;
  } catch (cause) {
    throw new TestbedError(`EC2 MetadataOptions ${JSON.stringify(metadata)} cannot be served: ${(cause as Error).message}`, { cause });
  }
}

/** The fields of `wanted` that differ from `current`; empty when nothing changes. */
export function changedOptions(wanted: FollowedOptions, current: MockImdsOptions): MockImdsOptionsPatch {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (current[key as keyof FollowedOptions] !== value) patch[key] = value;
  }
  return patch as MockImdsOptionsPatch;
}

/** One SDK client bound to an endpoint and region. */
interface MetadataDescriber {
  describe(instanceId: string): Promise<Ec2MetadataOptions | undefined>;
  destroy(): void;
}

/** Reads MetadataOptions with the AWS SDK's EC2 client, loaded on first use so a mock that never follows starts fast. */
export class SdkMetadataOptionsReader implements Ec2MetadataOptionsReader {
  private client: { key: string; ready: Promise<MetadataDescriber> } | undefined;

  async read(target: Ec2FollowTarget): Promise<Ec2MetadataOptions | undefined> {
    const key = `${target.endpoint} ${target.region}`;
    if (this.client?.key !== key) {
      this.close();
      this.client = { key, ready: createDescriber(target) };
    }
    return (await this.client.ready).describe(target.instanceId);
  }

  close(): void {
    const client = this.client;
    this.client = undefined;
    void client?.ready.then((c) => c.destroy(), () => undefined);
  }
}

async function createDescriber(target: Ec2FollowTarget): Promise<MetadataDescriber> {
  const { EC2Client, DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const client = new EC2Client({
    region: target.region,
    endpoint: target.endpoint,
    // The emulator ignores credentials; static ones keep the SDK from looking for any (least of all at IMDS).
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // The poll itself is the retry.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: DESCRIBE_TIMEOUT_MS, requestTimeout: DESCRIBE_TIMEOUT_MS },
  });
  return {
    describe: async (instanceId) => {
      const answer = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const instance = answer.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
      return instance === undefined ? undefined : (instance.MetadataOptions ?? {});
    },
    destroy: () => client.destroy(),
  };
}

/** What the follower needs from the mock process: its plug-in host, and optionally a reader and a log. */
export interface MockImdsEc2FollowerDeps extends MockImdsPluginHost {
  /** Default: SdkMetadataOptionsReader. */
  reader?: Ec2MetadataOptionsReader;
  /** One line per distinct poll error; default the process's stderr. */
  log?: (line: string) => void;
}

/**
 * Polls DescribeInstances every followEc2.intervalMs (one call at a time, the first at once)
 * while followEc2 is set, and applies changed MetadataOptions through `apply`. A poll
 * error (network, an unknown instance, a value the mock cannot serve) leaves the options
 * unchanged and is logged once per distinct message; a successful poll clears that
 * memory, so a later outage is logged again. Options set over the control socket that
 * the followed fields cover are overwritten by the next poll.
 */
export class MockImdsEc2Follower implements MockImdsPlugin {
  private readonly reader: Ec2MetadataOptionsReader;
  private readonly log: (line: string) => void;
  private readonly loggedErrors = new Set<string>();
  /** followEc2, region and instanceId of the current loop, as one comparable string; '' when idle. */
  private current = '';
  /** Bumped on every reconfigure so a poll of an older configuration applies nothing. */
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: MockImdsEc2FollowerDeps) {
    this.reader = deps.reader ?? new SdkMetadataOptionsReader();
    this.log = deps.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Starts, restarts or stops polling to match `options` (call after every options change); a no-op when nothing relevant changed. */
  configure(options: MockImdsOptions): void {
    if (this.stopped) return;
    const follow = options.followEc2;
    const key = follow === null ? '' : JSON.stringify([follow.endpoint, follow.intervalMs, options.region, options.instanceId]);
    if (key === this.current) return;
    this.current = key;
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.loggedErrors.clear();
    if (follow === null) return;
    const target: Ec2FollowTarget = { endpoint: follow.endpoint, region: options.region, instanceId: options.instanceId };
    this.schedule(this.generation, target, follow.intervalMs, 0);
  }

  /** Stops polling and waits for a poll in flight; the follower cannot be restarted. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Closing the client first ends a DescribeInstances in flight instead of waiting out its timeout.
    this.reader.close();
    await this.polling;
  }

  private schedule(generation: number, target: Ec2FollowTarget, intervalMs: number, delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll(generation, target).finally(() => {
        if (generation === this.generation) this.schedule(generation, target, intervalMs, intervalMs);
      });
    }, delayMs);
  }

  private async poll(generation: number, target: Ec2FollowTarget): Promise<void> {
    try {
      const metadata = await this.reader.read(target);
      if (generation !== this.generation) return;
      if (metadata === undefined) throw new TestbedError(`instance ${target.instanceId} is not in the DescribeInstances answer`);
      const wanted = followedOptions(metadata);
      if (wanted !== null) {
        const patch = changedOptions(wanted, this.deps.options());
        if (Object.keys(patch).length > 0) await this.deps.apply(patch);
      }
      this.loggedErrors.clear();
    } catch (error) {
      if (generation !== this.generation) return;
      const line = `mock-imds: followEc2 DescribeInstances ${target.instanceId} at ${target.endpoint}: ${describeError(error)}`;
      if (this.loggedErrors.has(line)) return;
      if (this.loggedErrors.size >= MAX_REMEMBERED_ERRORS) this.loggedErrors.clear();
      this.loggedErrors.add(line);
      this.log(line);
    }
  }
}

/** "InvalidInstanceID.NotFound: The instance ID … does not exist" for SDK errors, the message otherwise. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' || error instanceof TestbedError ? error.message : `${error.name}: ${error.message}`;
}

/**
 * Path of the compiled mock-imds-ec2-main.js, the mock IMDS with this follower plugged in (pass
 * it as createTestbed's mockScript). From the TypeScript sources (vitest) it is under <repo>/dist,
 * so a build must have run. Throws TestbedError when the file is missing.
 */
export function resolveMockImdsEc2Script(): string {
  const script = fileURLToPath(import.meta.url).endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/test/helpers/mock-imds-ec2-main.js', import.meta.url))
    : fileURLToPath(new URL('./mock-imds-ec2-main.js', import.meta.url));
  if (!existsSync(script)) throw new TestbedError(`mock IMDS script not found at ${script}`, { hint: 'run `npm run build` first' });
  return script;
}
