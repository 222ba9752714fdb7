// control/: pure: an instance's metadata options, what `enforce` asks for, and how two sets compare.

/** The settings of ModifyInstanceMetadataOptions, as EC2 names their values. */
export interface MetadataOptions {
  httpTokens: 'optional' | 'required';
  httpEndpoint: 'enabled' | 'disabled';
  hopLimit: number;
  httpProtocolIpv6: 'enabled' | 'disabled';
  instanceMetadataTags: 'enabled' | 'disabled';
}

/** What DescribeInstances says, with the state of the last change (`pending` until it reaches the host). */
export interface InstanceMetadataOptions extends MetadataOptions {
  state: 'pending' | 'applied' | string;
}

/** Values EC2 uses for a field it leaves out. */
export const EC2_DEFAULT_OPTIONS: Readonly<MetadataOptions> = Object.freeze({
  httpTokens: 'optional',
  httpEndpoint: 'enabled',
  hopLimit: 1,
  httpProtocolIpv6: 'disabled',
  instanceMetadataTags: 'disabled',
});

export const HOP_LIMIT_MIN = 1;
export const HOP_LIMIT_MAX = 64;
/** The hop limit a container behind a bridge needs for its token answer. */
export const CONTAINER_HOP_LIMIT = 2;

const FIELDS = ['httpTokens', 'httpEndpoint', 'hopLimit', 'httpProtocolIpv6', 'instanceMetadataTags'] as const;

/** True when both sets have the same values (the state is ignored). */
export function sameOptions(a: MetadataOptions, b: MetadataOptions): boolean {
  return FIELDS.every((f) => a[f] === b[f]);
}

/** Only the five settings, without the state. */
export function settingsOf(options: MetadataOptions): MetadataOptions {
  return { httpTokens: options.httpTokens, httpEndpoint: options.httpEndpoint, hopLimit: options.hopLimit, httpProtocolIpv6: options.httpProtocolIpv6, instanceMetadataTags: options.instanceMetadataTags };
}

/** `HttpTokens=required HttpEndpoint=enabled HopLimit=2 …`, for messages and the audit line. */
export function describeOptions(options: MetadataOptions): string {
  return `HttpTokens=${options.httpTokens} HttpEndpoint=${options.httpEndpoint} HopLimit=${options.hopLimit} HttpProtocolIpv6=${options.httpProtocolIpv6} InstanceMetadataTags=${options.instanceMetadataTags}`;
}

/** Only the fields that differ, `HttpTokens optional→required`, for the change summary. */
export function describeChange(before: MetadataOptions, after: MetadataOptions): string {
  const names: Record<(typeof FIELDS)[number], string> = {
    httpTokens: 'HttpTokens',
    httpEndpoint: 'HttpEndpoint',
    hopLimit: 'HopLimit',
    httpProtocolIpv6: 'HttpProtocolIpv6',
    instanceMetadataTags: 'InstanceMetadataTags',
  };
  const changed = FIELDS.filter((f) => before[f] !== after[f]).map((f) => `${names[f]} ${before[f]}→${after[f]}`);
  return changed.length === 0 ? 'no change' : changed.join(', ');
}

/** What `enforce` asks for. */
export interface EnforceRequest {
  disableEndpoint: boolean;
  /** `--hop-limit`, or null to keep the current one (raised for containers, see hopLimitDecision). */
  hopLimit: number | null;
  /** Container token answers were seen lost at the hop limit. */
  containerHopFailures: boolean;
}

/** The hop limit to set, and why, when it differs from the current one. */
export function hopLimitDecision(current: MetadataOptions, request: EnforceRequest): { hopLimit: number; reason: string | null } {
  if (request.hopLimit !== null) return { hopLimit: request.hopLimit, reason: request.hopLimit !== current.hopLimit ? `--hop-limit ${request.hopLimit}` : null };
  if (request.containerHopFailures && current.hopLimit < CONTAINER_HOP_LIMIT) {
    return { hopLimit: CONTAINER_HOP_LIMIT, reason: `raised to ${CONTAINER_HOP_LIMIT}: container token requests were lost at hop limit ${current.hopLimit}` };
  }
  return { hopLimit: current.hopLimit, reason: null };
}

/**
 * The options `enforce` sets: every field given explicitly (EC2 keeps an omitted
 * field, but emulators reset it; explicit values mean the same everywhere).
 */
export function enforcedOptions(current: MetadataOptions, request: EnforceRequest): MetadataOptions {
  return {
    ...settingsOf(current),
    httpTokens: 'required',
    // An endpoint that is off stays off: enforce never turns IMDS back on.
    httpEndpoint: request.disableEndpoint ? 'disabled' : current.httpEndpoint,
    hopLimit: hopLimitDecision(current, request).hopLimit,
  };
}
