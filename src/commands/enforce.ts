// commands/: `imds-sniff enforce` — require IMDSv2 on an instance once the gate allows it, wait for it to apply, verify, record for rollback.

import { describeMetadataOptions, modifyMetadataOptions, waitUntilApplied, type InstanceTarget } from '../aws/instance-metadata-options.js';
import { verifyOnHost } from '../aws/imds-verify.js';
import { parseDuration } from '../config/duration.js';
import { currentActor } from '../control/change-log.js';
import { describeChange, enforcedOptions, hopLimitDecision, sameOptions, settingsOf, HOP_LIMIT_MAX, HOP_LIMIT_MIN, type EnforceRequest, type MetadataOptions } from '../control/metadata-options.js';
import { AwsApiError, ExitCode, UsageError, type ExitCodeValue } from '../errors.js';
import { AuditLog } from '../sinks/audit-log.js';
import { controlContext, resolveTarget, type ControlContext, type ControlFlags } from './control-context.js';
import { gateJson, gateLines, optionsJson, optionsLine, printResult } from './control-report.js';
import { enforceTemplate } from './enforce-template.js';
import { applyGate, decideGate, type EnforcePlan } from './enforce-gate.js';
import { applyVerification, verificationLines } from './verification.js';

export interface EnforceFlags extends ControlFlags {
  minObservation: string;
  timeout: string;
  force?: boolean;
  hopLimit?: string;
  disableEndpoint?: boolean;
  dryRun?: boolean;
  launchTemplate?: string;
  setDefault?: boolean;
}

export const ENFORCE_HELP = `
Sets HttpTokens=required (HttpEndpoint stays enabled) with ec2:ModifyInstanceMetadataOptions once the
agent has observed the instance for --min-observation with no IMDSv1 call; waits until EC2 reports
the change applied, then checks IMDS on this host: a token-less GET must get 401, an IMDSv2 GET 200.
The previous options are recorded (<stateDir>/changes.json) for imds-sniff rollback; each change
is one audit line in the events log.
Exit codes: 0 done (or nothing to do), 6 the gate refused (nothing changed), 7 applied but not
verified, 5 AWS error, 2 bad flag.

Examples:
  imds-sniff enforce --dry-run
  imds-sniff enforce
  imds-sniff enforce --min-observation 72h --hop-limit 2
  imds-sniff enforce --instance-id i-0123456789abcdef0 --region eu-west-1
  imds-sniff enforce --launch-template lt-0123456789abcdef0 --set-default`;

function parseHopLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < HOP_LIMIT_MIN || n > HOP_LIMIT_MAX) throw new UsageError(`--hop-limit: "${text}" must be an integer ${HOP_LIMIT_MIN}..${HOP_LIMIT_MAX}`);
  return n;
}

function plan(flags: EnforceFlags): EnforcePlan {
  if (flags.setDefault && flags.launchTemplate === undefined) throw new UsageError('--set-default needs --launch-template');
  return {
    minObservationMs: parseDuration(flags.minObservation, '--min-observation'),
    timeoutMs: parseDuration(flags.timeout, '--timeout'),
    request: { disableEndpoint: flags.disableEndpoint === true, hopLimit: flags.hopLimit === undefined ? null : parseHopLimit(flags.hopLimit) },
    force: flags.force === true,
    dryRun: flags.dryRun === true,
  };
}

async function enforceInstance(ctx: ControlContext, flags: EnforceFlags, p: EnforcePlan): Promise<ExitCodeValue> {
  const target = resolveTarget(ctx, flags);
  const it: InstanceTarget = { client: ctx.ec2(target.region), instanceId: target.instanceId, region: target.region };
  const current = await describeMetadataOptions(it);
  const requestFor = (containerHopFailures: boolean): EnforceRequest => ({ ...p.request, containerHopFailures });
  const decision = await decideGate(ctx, target, p, (hop) => enforcedOptions(current, requestFor(hop)).hopLimit);
  const request = requestFor(decision.containerHopFailures);
  const desired = enforcedOptions(current, request);
  const hop = hopLimitDecision(current, request);
  const json: Record<string, unknown> = {
    event: 'enforce',
    instance_id: target.instanceId,
    region: target.region,
    this_host: target.local,
    before: optionsJson(current),
    requested: optionsJson(desired),
    hop_limit_note: hop.reason,
    gate: gateJson(decision.gate),
    dry_run: p.dryRun,
    forced: false,
  };
  const lines = [
    `instance      ${target.instanceId} (${target.region})${target.local ? ', this host' : ''}`,
    `before        ${optionsLine(current)}`,
    `change        ${describeChange(current, desired)}${hop.reason === null ? '' : ` (hop limit ${hop.reason})`}`,
    ...gateLines(decision.gate, request.disableEndpoint ? 'disable-endpoint' : 'require-tokens'),
  ];
  if (sameOptions(current, desired)) {
    printResult(flags.format, { ...json, result: 'already_enforced' }, [...lines, 'result        already enforced: nothing to change']);
    return ExitCode.OK;
  }
  if (p.dryRun) {
    await modifyMetadataOptions(it, desired, true);
    const refused = !decision.gate.ok && !p.force;
    printResult(flags.format, { ...json, result: refused ? 'dry_run_gate_refuses' : 'dry_run_ok' }, [
      ...lines,
      `result        dry run: EC2 would accept the change with these credentials${refused ? ', but the gate refuses' : ''}; nothing was changed`,
    ]);
    return refused ? ExitCode.GATE_REFUSED : ExitCode.OK;
  }
  if (!decision.gate.ok && !p.force) printResult(flags.format, { ...json, result: 'refused' }, [...lines, 'result        refused: nothing was changed']);
  applyGate(decision.gate, p.force, `instance ${target.instanceId}`);
  json['forced'] = !decision.gate.ok;

  const audit = new AuditLog(ctx.config.logs.eventsFile);
  audit.check();
  ctx.changeLog.ensureWritable();
  const again = await describeMetadataOptions(it);
  if (!sameOptions(again, current)) {
    throw new AwsApiError('ERR_CHANGED_MEANWHILE', `instance ${target.instanceId} changed while the gate was read (now ${optionsLine(again)}); nothing was changed`, { hint: 'run imds-sniff enforce again' });
  }
  const record = ctx.changeLog.append({
    time: new Date().toISOString(),
    action: 'enforce',
    target: { kind: 'instance', instance_id: target.instanceId, region: target.region },
    before: settingsOf(current),
    after: desired,
    forced: !decision.gate.ok,
    local: target.local,
    result: 'requested',
    by: currentActor(),
    rolled_back_at: null,
    undoes: null,
  });
  const auditBase = { time: record.time, action: 'enforce', change_id: record.id, target: record.target, before: optionsJson(current), after: optionsJson(desired), forced: record.forced, gate_reasons: decision.gate.reasons, window_start: decision.gate.windowStart, min_observation_ms: p.minObservationMs, by: record.by };
  return applyChange({ ctx, it, target, desired, before: settingsOf(current), timeoutMs: p.timeoutMs, recordId: record.id, audit, auditBase, json, lines, format: flags.format });
}

/** What applyChange needs: the change, its record and audit line, and the report so far. */
export interface ChangeRun {
  ctx: ControlContext;
  it: InstanceTarget;
  target: { local: boolean };
  desired: MetadataOptions;
  /** The options before the change (reads still showing them are not yet consistent, not someone else's change). */
  before: MetadataOptions;
  timeoutMs: number;
  recordId: string;
  audit: AuditLog;
  auditBase: Record<string, unknown> & { time: string; action: string };
  json: Record<string, unknown>;
  lines: string[];
  format: 'table' | 'json';
}

/** Modifies, waits for `applied`, verifies on this host, writes the audit line and the report. Shared by enforce and rollback. */
export async function applyChange(run: ChangeRun): Promise<ExitCodeValue> {
  const { ctx, it, audit, auditBase } = run;
  try {
    await modifyMetadataOptions(it, run.desired, false);
  } catch (error) {
    ctx.changeLog.update(run.recordId, { result: 'failed' });
    audit.write({ ...auditBase, result: 'failed', error: (error as Error).message });
    throw error;
  }
  ctx.changeLog.update(run.recordId, { result: 'applied' });
  let waitedMs: number;
  try {
    waitedMs = (await waitUntilApplied(it, run.desired, run.before, run.timeoutMs)).waitedMs;
  } catch (error) {
    audit.write({ ...auditBase, result: (error as AwsApiError).code === 'ERR_CHANGED_MEANWHILE' ? 'changed_meanwhile' : 'not_applied', error: (error as Error).message });
    throw error;
  }
  const verification = run.target.local ? await verifyOnHost(run.desired, run.timeoutMs) : null;
  const result = verification === null ? 'applied' : verification.ok ? 'verified' : 'verify_failed';
  audit.write({ ...auditBase, result, applied_after_ms: waitedMs, verification });
  printResult(run.format, { ...run.json, result, applied_after_ms: waitedMs, verification }, [
    ...run.lines,
    `applied       State=applied after ${(waitedMs / 1000).toFixed(1)} s`,
    ...verificationLines(verification),
    `result        ${result}; change recorded in ${ctx.changeLog.path}`,
  ]);
  return applyVerification(verification, it.instanceId);
}

export async function runEnforce(flags: EnforceFlags): Promise<ExitCodeValue> {
  const p = plan(flags);
  const ctx = await controlContext(flags);
  return flags.launchTemplate === undefined ? enforceInstance(ctx, flags, p) : enforceTemplate(ctx, flags, p, flags.launchTemplate);
}
