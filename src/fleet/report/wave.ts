// fleet/report/: pure: the wave an instance belongs to: 0 disposable, 1 replaceable by an instance refresh, 2 stateful or hand-built.

import type { InstanceItem } from '../model.js';
import type { Wave } from './model.js';

export const WAVE_TAG = 'imds-sniff:wave';
const DISPOSABLE_ENVS = new Set(['dev', 'development', 'test', 'testing', 'qa', 'sandbox', 'staging']);
const ENV_TAGS = ['env', 'Env', 'environment', 'Environment', 'stage', 'Stage'];

/**
 * An instance's wave and why. The tag `imds-sniff:wave=0|1|2` (or an override
 * given to the command) wins; otherwise an instance outside any Auto Scaling
 * group is hand-built (2), a group's instance in a dev/test environment or
 * tagged `imds-sniff:stateless=true` is disposable (0), any other group's
 * instance is replaceable through an instance refresh (1).
 */
export function waveOf(instance: InstanceItem, override?: Wave): { wave: Wave; reason: string } {
  if (override !== undefined) return { wave: override, reason: 'set on the command line' };
  const tagged = instance.tags[WAVE_TAG];
  if (tagged === '0' || tagged === '1' || tagged === '2') return { wave: Number(tagged) as Wave, reason: `tag ${WAVE_TAG}=${tagged}` };
  if (instance.autoScalingGroup === null) return { wave: 2, reason: 'not in an Auto Scaling group (hand-built)' };
  const env = ENV_TAGS.map((t) => instance.tags[t]).find((v) => v !== undefined);
  if (env !== undefined && DISPOSABLE_ENVS.has(env.toLowerCase())) return { wave: 0, reason: `in group ${instance.autoScalingGroup}, environment ${env}` };
  if (instance.tags['imds-sniff:stateless'] === 'true') return { wave: 0, reason: `in group ${instance.autoScalingGroup}, tagged stateless` };
  return { wave: 1, reason: `in group ${instance.autoScalingGroup} (instance refresh)` };
}
