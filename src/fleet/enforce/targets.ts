// fleet/enforce/: pure: which instances of a wave are sent the gated on-host enforce, and why the others are left.

import type { FleetReport, InstanceVerdict, Wave } from '../report/model.js';

export interface WaveTargets {
  wave: Wave;
  /** Instances to send the command to, per account and region (SSM is regional). */
  byScope: Map<string, { account: string; region: string; instanceIds: string[] }>;
  skipped: { instanceId: string; account: string; region: string; why: string }[];
}

/**
 * The wave's instances that still allow IMDSv1 and are ready (the agent saw
 * no IMDSv1 for the whole window). Blocked, unobserved and excepted ones are
 * listed as skipped with the reason; `includeNoData` also sends to instances
 * without enough data (the on-host gate still decides).
 */
export function waveTargets(report: FleetReport, wave: Wave, options: { includeNoData: boolean }): WaveTargets {
  const out: WaveTargets = { wave, byScope: new Map(), skipped: [] };
  const skip = (v: InstanceVerdict, why: string): void => void out.skipped.push({ instanceId: v.instance.id, account: v.instance.account, region: v.instance.region, why });
  for (const v of report.instances) {
    if (v.wave !== wave || v.verdict === 'enforced') continue;
    if (v.verdict === 'exception') skip(v, v.detail);
    else if (v.verdict === 'blocked' || v.verdict === 'v1-no-agent') skip(v, `still used: ${v.detail}`);
    else if (v.verdict === 'no-data' && !options.includeNoData) skip(v, `${v.detail} (--include-no-data sends it anyway; its own gate decides)`);
    else {
      const key = `${v.instance.account}/${v.instance.region}`;
      const scope = out.byScope.get(key) ?? { account: v.instance.account, region: v.instance.region, instanceIds: [] };
      scope.instanceIds.push(v.instance.id);
      out.byScope.set(key, scope);
    }
  }
  for (const s of out.byScope.values()) s.instanceIds.sort();
  return out;
}
