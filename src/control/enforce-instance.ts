// control/: `imds-sniff enforce` on an instance — the gate, then require IMDSv2, wait for it to apply, verify, record for rollback.

import { modifyMetadataOptions, type InstanceTarget } from '../aws/instance-metadata-options.js';
import { ExitCode, GateRefusedError, type ExitCodeValue } from '../errors.js';
import { applyChange, startChange } from './change-run.js';
import { resolveTarget, type ControlContext, type ControlFlags } from './control-context.js';
import { applyGate, decideGate, dryRunRefusal, type EnforcePlan } from './decide-gate.js';
import { readInstanceOptions } from './instance-options.js';
import { describeChange, enforcedOptions, sameOptions, settingsOf } from './metadata-options.js';
import { gateJson, gateLines, optionsJson, optionsLine, printOutcome, type Report } from './report.js';

/** Requires IMDSv2 on the target instance (--instance-id or this host) as the plan says; prints the report, returns the exit code. */
export async function enforceInstance(ctx: ControlContext, flags: Pick<ControlFlags, 'instanceId' | 'format'>, p: EnforcePlan): Promise<ExitCodeValue> {
  const target = resolveTarget(ctx, flags);
  const it: InstanceTarget = { client: ctx.ec2(target.region), instanceId: target.instanceId, region: target.region };
  const current = await readInstanceOptions(it);
  const decision = await decideGate(ctx, target, p, current);
  const desired = enforcedOptions(current, decision.request);
  const report: Report = {
    format: flags.format,
    json: {
      event: 'enforce',
      instance_id: target.instanceId,
      region: target.region,
      this_host: target.local,
      before: optionsJson(current),
      requested: optionsJson(desired),
      hop_limit_note: decision.hop.reason,
      gate: gateJson(decision.gate),
      dry_run: p.dryRun,
      forced: false,
    },
    lines: [
      `instance      ${target.instanceId} (${target.region})${target.local ? ', this host' : ''}`,
      `before        ${optionsLine(current)}`,
      `change        ${describeChange(current, desired)}${decision.hop.reason === null ? '' : ` (hop limit ${decision.hop.reason})`}`,
      ...gateLines(decision.gate),
    ],
  };
  if (sameOptions(current, desired)) {
    printOutcome(report, 'already_enforced', { text: 'already enforced: nothing to change' });
    return ExitCode.OK;
  }
  if (p.dryRun) {
    // EC2 first: a missing permission is worth knowing whatever the gate says (exit 5 before 6).
    await modifyMetadataOptions(it, desired, true);
    const refused = !decision.gate.ok && !p.force;
    const refusal = refused ? dryRunRefusal(decision.gate, `instance ${target.instanceId}`) : null;
    printOutcome(report, refused ? 'dry_run_gate_refuses' : 'dry_run_ok', {
      error: refusal,
      text: `dry run: EC2 would accept the change with these credentials${refused ? ', but the gate refuses' : ''}; nothing was changed`,
    });
    if (refusal !== null) throw refusal;
    return ExitCode.OK;
  }
  const forced = applyGate(decision.gate, p.force, `instance ${target.instanceId}`, report);
  report.json['forced'] = forced;

  // From here on one run at a time: a second enforce that passed its gate meanwhile sees this one's change.
  ctx.lockChanges();
  const again = await readInstanceOptions(it);
  if (!sameOptions(again, current)) {
    throw new GateRefusedError('ERR_CHANGED_MEANWHILE', `instance ${target.instanceId} changed while the gate was read (now ${optionsLine(again)}); nothing was changed`, { hint: 'run imds-sniff enforce again' });
  }
  const run = startChange(
    ctx,
    { action: 'enforce', target: { kind: 'instance', instance_id: target.instanceId, region: target.region }, before: settingsOf(current), after: desired, forced, local: target.local, undoes: null },
    { before: optionsJson(current), after: optionsJson(desired), gate_reasons: decision.gate.reasons, window_start: decision.gate.windowStart, min_observation_ms: p.minObservationMs },
    report,
  );
  return applyChange(run, { it, desired, before: settingsOf(current), timeoutMs: p.timeoutMs });
}
