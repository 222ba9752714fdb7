// control/: after a change, polls the instance's options (aws/) until EC2 reports them applied — or someone else changed them meanwhile.

import { isTransientAwsError } from '../aws/aws-errors.js';
import type { InstanceTarget } from '../aws/instance-metadata-options.js';
import { AwsApiError, VerifyFailedError } from '../errors.js';
import { readInstanceOptions } from './instance-options.js';
import { describeOptions, sameOptions, type MetadataOptions } from './metadata-options.js';

/** Polls start at this interval and grow by half each time up to the cap: a fleet-wide run stays under EC2's rate limits. */
const POLL_FIRST_MS = 1_000;
const POLL_MAX_MS = 5_000;

/**
 * Polls DescribeInstances until the options read back as `expected` with state
 * `applied`. Reads that still show `before` count as pending (EC2 reads are
 * eventually consistent), and so do reads that fail on throttling or the network
 * (EC2 accepted the change; a busy API does not undo it). Throws when they read
 * back as neither (someone else changed the instance meanwhile), on a
 * permanent error, or when still pending at `deadlineMs`. Resolves with the milliseconds waited.
 */
export async function waitUntilApplied(
  target: InstanceTarget,
  expected: MetadataOptions,
  before: MetadataOptions,
  deadlineMs: number,
): Promise<number> {
  const started = Date.now();
  let pollMs = POLL_FIRST_MS;
  for (;;) {
    let state: string;
    try {
      const options = await readInstanceOptions(target);
      const stale = !sameOptions(options, expected) && sameOptions(options, before);
      if (!sameOptions(options, expected) && !stale) {
        throw new VerifyFailedError('ERR_CHANGED_AFTER_APPLY', `instance ${target.instanceId} now reads ${describeOptions(options)}, not what was just set (${describeOptions(expected)}): someone else changed it meanwhile`, {
          hint: 'find who (CloudTrail ModifyInstanceMetadataOptions), then run imds-sniff status and decide again',
        });
      }
      if (options.state === 'applied' && !stale) return Date.now() - started;
      state = stale ? 'not visible' : options.state;
    } catch (error) {
      if (!isTransientAwsError(error)) throw error;
      state = `unreadable (${(error as Error).message})`;
    }
    const left = deadlineMs - Date.now();
    if (left <= 0) {
      throw new AwsApiError('ERR_NOT_APPLIED', `instance ${target.instanceId}: the change is still ${state} after ${Math.round((Date.now() - started) / 1000)} s`, {
        hint: 'EC2 accepted it; check again with imds-sniff status, or wait longer with --timeout',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    pollMs = Math.min(POLL_MAX_MS, Math.round(pollMs * 1.5));
  }
}
