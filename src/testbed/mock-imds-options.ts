// Mock IMDS options: the typed settings (as in ModifyInstanceMetadataOptions), defaults and validation.

import { TestbedError } from '../errors.js';

/** Role credentials served at iam/security-credentials/<role>; a test plants canaries here. */
export interface MockImdsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Session token (the "Token" field). */
  token: string;
  /** ISO-8601 expiry; null means six hours after each request. */
  expiration: string | null;
}

/** Where and how often the mock reads its own instance's MetadataOptions from an EC2 API (emulator). */
export interface MockImdsFollowEc2 {
  /** EC2 endpoint URL reachable from the IMDS namespace, e.g. `http://10.41.0.2:5000` (moto in the host namespace). */
  endpoint: string;
  /** Pause between two DescribeInstances calls. */
  intervalMs: number;
}

/** What the mock serves and how strictly; every field can change at run time. */
export interface MockImdsOptions {
  /** 'required' refuses token-less GETs with 401 (IMDSv2 only). */
  httpTokens: 'optional' | 'required';
  /** 'disabled' answers 403 to everything. */
  httpEndpoint: 'enabled' | 'disabled';
  /** IP TTL / IPv6 hop limit of the token PUT answer, 1..64; enforced by nft in the IMDS namespace. */
  hopLimit: number;
  /** 'enabled' serves /latest/meta-data/tags/instance/. */
  instanceMetadataTags: 'enabled' | 'disabled';
  instanceId: string;
  region: string;
  /** null means `<region>a`. */
  availabilityZone: string | null;
  accountId: string;
  amiId: string;
  instanceType: string;
  privateIp: string;
  hostname: string;
  mac: string;
  /** Instance profile role name; null means no role attached (iam/ is 404). */
  role: string | null;
  credentials: MockImdsCredentials;
  /** Instance tags served under tags/instance/ when instanceMetadataTags is 'enabled'. */
  tags: Record<string, string>;
  /** When set, every token PUT answers this token (a canary); null means random tokens. */
  fixedToken: string | null;
  /**
   * When set (403, 404 or 405), token PUTs are refused with this status, as an
   * old endpoint or a proxy does; SDKs then fall back to IMDSv1. null serves tokens.
   */
  refuseTokenPut: 403 | 404 | 405 | null;
  /**
   * When set, the mock polls DescribeInstances for `instanceId` in `region` and applies
   * the instance's MetadataOptions to itself (a plug-in: see test/helpers/mock-imds-ec2-follower.ts), so a
   * ModifyInstanceMetadataOptions call against the emulator takes effect here. null
   * leaves the options to the control channel alone.
   */
  followEc2: MockImdsFollowEc2 | null;
}

/** A change to some options, as sent over the control channel. */
export type MockImdsOptionsPatch = Partial<MockImdsOptions>;

/** Defaults close to a fresh t3.micro with IMDSv1 still allowed. */
export const DEFAULT_MOCK_IMDS_OPTIONS: Readonly<MockImdsOptions> = Object.freeze({
  httpTokens: 'optional',
  httpEndpoint: 'enabled',
  hopLimit: 1,
  instanceMetadataTags: 'disabled',
  instanceId: 'i-0123456789abcdef0',
  region: 'us-east-1',
  availabilityZone: null,
  accountId: '123456789012',
  amiId: 'ami-0abcdef1234567890',
  instanceType: 't3.micro',
  privateIp: '10.0.0.10',
  hostname: 'ip-10-0-0-10.ec2.internal',
  mac: '02:00:00:00:00:01',
  role: 'imds-sniff-test-role',
  credentials: {
    accessKeyId: 'ASIAMOCKIMDSEXAMPLE0',
    secretAccessKey: 'mockImdsSecretAccessKeyExample0000000000',
    token: 'mockImdsSessionTokenExample',
    expiration: null,
  },
  tags: { Name: 'imds-sniff-testbed' },
  fixedToken: null,
  refuseTokenPut: null,
  followEc2: null,
});

/** Lowest and highest HttpPutResponseHopLimit that EC2 accepts. */
export const HOP_LIMIT_RANGE = { min: 1, max: 64 } as const;

/** Bounds of followEc2.intervalMs: fast enough for tests, slow enough not to spin. */
export const FOLLOW_EC2_INTERVAL_MS_RANGE = { min: 10, max: 600_000 } as const;

const ENUMS: Partial<Record<keyof MockImdsOptions, readonly string[]>> = {
  httpTokens: ['optional', 'required'],
  httpEndpoint: ['enabled', 'disabled'],
  instanceMetadataTags: ['enabled', 'disabled'],
};
const STRINGS = ['instanceId', 'region', 'accountId', 'amiId', 'instanceType', 'privateIp', 'hostname', 'mac'] as const;
const NULLABLE_STRINGS = ['availabilityZone', 'role', 'fixedToken'] as const;

function fail(field: string, expected: string): never {
  throw new TestbedError(`mock IMDS option ${field} must be ${expected}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkCredentials(value: unknown): MockImdsCredentials {
  if (!isRecord(value)) fail('credentials', 'an object');
  for (const key of ['accessKeyId', 'secretAccessKey', 'token'] as const) {
    if (typeof value[key] !== 'string' || value[key] === '') fail(`credentials.${key}`, 'a non-empty string');
  }
  const expiration = value['expiration'] ?? null;
  if (expiration !== null && typeof expiration !== 'string') fail('credentials.expiration', 'a string or null');
  return {
    accessKeyId: value['accessKeyId'] as string,
    secretAccessKey: value['secretAccessKey'] as string,
    token: value['token'] as string,
    expiration,
  };
}

function checkFollowEc2(value: unknown): MockImdsFollowEc2 | null {
  if (value === null) return null;
  if (!isRecord(value)) fail('followEc2', 'null or { endpoint, intervalMs }');
  for (const key of Object.keys(value)) {
    if (key !== 'endpoint' && key !== 'intervalMs') throw new TestbedError(`unknown mock IMDS option followEc2.${key}`);
  }
  const { endpoint, intervalMs } = value;
  let url: URL | undefined;
  try {
    url = typeof endpoint === 'string' ? new URL(endpoint) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail('followEc2.endpoint', 'an http:// or https:// URL');
  const { min, max } = FOLLOW_EC2_INTERVAL_MS_RANGE;
  if (!Number.isInteger(intervalMs) || (intervalMs as number) < min || (intervalMs as number) > max) {
    fail('followEc2.intervalMs', `an integer ${min}..${max}`);
  }
  return { endpoint: endpoint as string, intervalMs: intervalMs as number };
}

/**
 * Checks an options patch from an untrusted source (JSON over the control socket) and
 * returns it typed. Throws TestbedError naming the first bad field.
 */
export function validateMockImdsPatch(value: unknown): MockImdsOptionsPatch {
  if (!isRecord(value)) fail('patch', 'a JSON object');
  const patch: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!(key in DEFAULT_MOCK_IMDS_OPTIONS)) throw new TestbedError(`unknown mock IMDS option ${key}`);
    const allowed = ENUMS[key as keyof MockImdsOptions];
    if (allowed !== undefined) {
      if (typeof field !== 'string' || !allowed.includes(field)) fail(key, allowed.map((a) => `'${a}'`).join(' or '));
    } else if (key === 'hopLimit') {
      if (!Number.isInteger(field) || (field as number) < HOP_LIMIT_RANGE.min || (field as number) > HOP_LIMIT_RANGE.max) {
        fail(key, `an integer ${HOP_LIMIT_RANGE.min}..${HOP_LIMIT_RANGE.max}`);
      }
    } else if ((STRINGS as readonly string[]).includes(key)) {
      if (typeof field !== 'string' || field === '') fail(key, 'a non-empty string');
    } else if ((NULLABLE_STRINGS as readonly string[]).includes(key)) {
      if (field !== null && (typeof field !== 'string' || field === '')) fail(key, 'a non-empty string or null');
    } else if (key === 'refuseTokenPut') {
      if (field !== null && field !== 403 && field !== 404 && field !== 405) fail(key, '403, 404, 405 or null');
    } else if (key === 'credentials') {
      patch[key] = checkCredentials(field);
      continue;
    } else if (key === 'followEc2') {
      patch[key] = checkFollowEc2(field);
      continue;
    } else if (key === 'tags') {
      if (!isRecord(field) || !Object.values(field).every((v) => typeof v === 'string')) fail(key, 'an object of strings');
      patch[key] = { ...field };
      continue;
    }
    patch[key] = field;
  }
  return patch as MockImdsOptionsPatch;
}

/** Applies a validated patch to full options, returning a new object. */
export function mergeMockImdsOptions(base: MockImdsOptions, patch: MockImdsOptionsPatch): MockImdsOptions {
  const merged: MockImdsOptions = { ...base, ...patch };
  merged.credentials = { ...merged.credentials };
  merged.tags = { ...merged.tags };
  merged.followEc2 = merged.followEc2 === null ? null : { ...merged.followEc2 };
  return merged;
}

/** Builds full options from defaults and an optional patch, validating the patch. */
export function resolveMockImdsOptions(patch: unknown = {}): MockImdsOptions {
  return mergeMockImdsOptions(structuredClone(DEFAULT_MOCK_IMDS_OPTIONS) as MockImdsOptions, validateMockImdsPatch(patch));
}
