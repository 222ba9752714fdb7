// Test helper: one EC2 API call via ec2-call.mjs, inside a network namespace when the endpoint (moto, the fault proxy) lives there.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('./ec2-call.mjs', import.meta.url));

/** Static keys for moto, and never an instance metadata lookup from the SDK. */
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PROFILE: undefined,
};

/** An EC2 API error answer: `name` is the AWS error code (e.g. InvalidInstanceID.NotFound), `status` the HTTP status. */
export class Ec2CallError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** Where a call goes: an endpoint URL as seen from `netns` (null: this namespace). */
export interface Ec2CallTarget {
  endpoint: string;
  netns: string | null;
  /** Default us-east-1. */
  region?: string;
}

/**
 * Runs `<command>Command(input)` of @aws-sdk/client-ec2 against the target (one attempt,
 * no retries) and resolves with the output without $metadata. Rejects with Ec2CallError
 * on an API error.
 */
export async function ec2Call<T = Record<string, unknown>>(target: Ec2CallTarget, command: string, input: object = {}): Promise<T> {
  const args = [SCRIPT, target.endpoint, command, JSON.stringify(input), target.region ?? 'us-east-1'];
  const argv = target.netns === null ? [process.execPath, ...args] : ['ip', 'netns', 'exec', target.netns, process.execPath, ...args];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(argv[0] as string, argv.slice(1), { env: ENV, timeout: 30_000 }));
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code !== 3 || failed.stdout === undefined) throw new Error(`ec2-call ${command} failed: ${failed.stderr ?? String(error)}`);
    const { name, message, status } = (JSON.parse(failed.stdout) as { error: { name: string; message: string; status: number | null } }).error;
    throw new Ec2CallError(name, message, status);
  }
  return JSON.parse(stdout) as T;
}

/** MetadataOptions as DescribeInstances returns them. */
export interface InstanceMetadataOptions {
  State?: string;
  HttpTokens?: string;
  HttpPutResponseHopLimit?: number;
  HttpEndpoint?: string;
  HttpProtocolIpv6?: string;
  InstanceMetadataTags?: string;
}

/** Launches one instance (moto accepts any AMI id) and resolves with its id. */
export async function runInstance(target: Ec2CallTarget, metadataOptions?: Omit<InstanceMetadataOptions, 'State'>): Promise<string> {
  const input = { ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, ...(metadataOptions === undefined ? {} : { MetadataOptions: metadataOptions }) };
  const out = await ec2Call<{ Instances?: { InstanceId?: string }[] }>(target, 'RunInstances', input);
  const id = out.Instances?.[0]?.InstanceId;
  if (id === undefined) throw new Error(`RunInstances returned no instance: ${JSON.stringify(out)}`);
  return id;
}

/** The instance's MetadataOptions from DescribeInstances. */
export async function describeMetadataOptions(target: Ec2CallTarget, instanceId: string): Promise<InstanceMetadataOptions> {
  const out = await ec2Call<{ Reservations?: { Instances?: { InstanceId?: string; MetadataOptions?: InstanceMetadataOptions }[] }[] }>(
    target,
    'DescribeInstances',
    { InstanceIds: [instanceId] },
  );
  const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  if (instance === undefined) throw new Error(`DescribeInstances does not list ${instanceId}`);
  return instance.MetadataOptions ?? {};
}
