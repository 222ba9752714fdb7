// control/: `imds-sniff enforce --launch-template` — a hardened launch template version, so instances launched later require IMDSv2 too.

import { createHardenedVersion, describeTemplate, hardenedTemplateData, setDefaultVersion, type TemplateRef } from '../aws/launch-template.js';
import type { ChangeTarget, TemplateVersions } from './change-log.js';
import { EC2_DEFAULT_OPTIONS } from './metadata-options.js';
import { ExitCode, VerifyFailedError, type ExitCodeValue } from '../errors.js';
import { requireRegion, resolveTarget, type ControlContext, type ControlFlags } from './control-context.js';
import { gateJson, gateLines, printOutcome, type Report } from './report.js';
import { callChange, readBackTemplate, reportFailure, startChange, updateRecord } from './change-run.js';
import { applyGate, decideGate, dryRunRefusal, type EnforcePlan } from './decide-gate.js';

/** What enforceTemplate takes of the flags: the evidence instance, the output format, and whether the new version becomes the default. */
export type TemplateEnforceFlags = Pick<ControlFlags, 'instanceId' | 'format'> & { setDefault?: boolean };

/** Creates the hardened version of `idOrName` (and with setDefault makes it the default) once the gate allows; records, audits, reads back. */
export async function enforceTemplate(ctx: ControlContext, flags: TemplateEnforceFlags, p: EnforcePlan, idOrName: string): Promise<ExitCodeValue> {
  const region = requireRegion(ctx);
  const ref: TemplateRef = { client: ctx.ec2(region), region, idOrName };
  const info = await describeTemplate(ref);
  const meta = info.defaultData.MetadataOptions ?? {};
  const currentHop = meta.HttpPutResponseHopLimit ?? EC2_DEFAULT_OPTIONS.hopLimit;
  // The evidence: the instance named by --instance-id, or this one (typically launched from the template).
  const evidence = flags.instanceId !== undefined || ctx.selfInstanceId !== null ? resolveTarget(ctx, flags) : null;
  const decision = await decideGate(ctx, evidence, p, { ...EC2_DEFAULT_OPTIONS, hopLimit: currentHop });
  const { hop } = decision;
  const wantedEndpoint = p.request.disableEndpoint ? 'disabled' : (meta.HttpEndpoint ?? 'enabled');
  const target: ChangeTarget = { kind: 'launch-template', launch_template_id: info.id, region };
  const report: Report = {
    format: flags.format,
    json: {
      event: 'enforce',
      launch_template_id: info.id,
      launch_template_name: info.name,
      region,
      default_version: info.defaultVersion,
      evidence_instance_id: evidence?.instanceId ?? null,
      before: { HttpTokens: meta.HttpTokens ?? null, HttpEndpoint: meta.HttpEndpoint ?? null, HttpPutResponseHopLimit: meta.HttpPutResponseHopLimit ?? null },
      hop_limit_note: hop.reason,
      gate: gateJson(decision.gate),
      dry_run: p.dryRun,
      forced: false,
    },
    lines: [
      `template      ${info.id} (${info.name}, ${region}), default version ${info.defaultVersion}`,
      `before        HttpTokens=${meta.HttpTokens ?? 'optional (default)'} HttpEndpoint=${meta.HttpEndpoint ?? 'enabled (default)'} HopLimit=${meta.HttpPutResponseHopLimit ?? '1 (default)'}`,
      `evidence      ${evidence === null ? 'none' : `instance ${evidence.instanceId}`}`,
      ...gateLines(decision.gate),
    ],
  };
  const already = meta.HttpTokens === 'required' && (meta.HttpEndpoint ?? 'enabled') === wantedEndpoint && hop.hopLimit === currentHop;
  if (already) {
    printOutcome(report, 'already_enforced', { text: 'the default version already requires IMDSv2: nothing to change' });
    return ExitCode.OK;
  }
  const data = hardenedTemplateData(info.defaultData, { hopLimit: hop.reason === null ? null : hop.hopLimit, disableEndpoint: p.request.disableEndpoint });
  const description = `imds-sniff enforce: HttpTokens=required (from version ${info.defaultVersion})`;
  if (p.dryRun) {
    await createHardenedVersion(ref, info, data, description, true);
    if (flags.setDefault) await setDefaultVersion(ref, info.id, info.latestVersion, true);
    const refused = !decision.gate.ok && !p.force;
    const refusal = refused ? dryRunRefusal(decision.gate, `launch template ${info.id}`) : null;
    printOutcome(report, refused ? 'dry_run_gate_refuses' : 'dry_run_ok', {
      error: refusal,
      text: `dry run: EC2 would accept the new version${flags.setDefault ? ' and the default change' : ''}${refused ? ', but the gate refuses' : ''}; nothing was changed`,
    });
    if (refusal !== null) throw refusal;
    return ExitCode.OK;
  }
  const forced = applyGate(decision.gate, p.force, `launch template ${info.id}`, report);
  report.json['forced'] = forced;

  const versions = (defaultVersion: number, created: number | null): TemplateVersions => ({ default_version: defaultVersion, created_version: created });
  const run = startChange(
    ctx,
    { action: 'enforce', target, before: versions(info.defaultVersion, null), after: versions(info.defaultVersion, null), forced, local: false, undoes: null },
    { before: versions(info.defaultVersion, null), gate_reasons: decision.gate.reasons, window_start: decision.gate.windowStart, min_observation_ms: p.minObservationMs },
    report,
  );
  const created = (await callChange(run, () => createHardenedVersion(ref, info, data, description, false))) as number;
  // The default the change leads to is recorded before it is set: if that call's answer is lost, rollback still knows.
  const after = versions(flags.setDefault ? created : info.defaultVersion, created);
  updateRecord(run, run.record.id, { result: 'applied', after });
  run.auditBase['after'] = after;
  if (flags.setDefault) {
    try {
      await setDefaultVersion(ref, info.id, created, false);
    } catch (error) {
      reportFailure(run, 'default_not_set', error);
      throw error;
    }
  }
  const readBack = await readBackTemplate(run, ref);
  const ok = !flags.setDefault || (readBack.defaultVersion === created && readBack.defaultTokens === 'required');
  run.audit.write({ ...run.auditBase, result: ok ? 'verified' : 'verify_failed' });
  const failure = ok ? null : new VerifyFailedError(`launch template ${ref.idOrName}: the default version reads back as ${readBack.defaultVersion} (HttpTokens=${readBack.defaultTokens ?? 'optional'}), not version ${created} requiring IMDSv2`, {
    hint: 'check the template in the console; imds-sniff rollback restores the recorded default',
  });
  printOutcome(report, ok ? 'verified' : 'verify_failed', {
    error: failure,
    json: { created_version: created, default_version_now: readBack.defaultVersion },
    lines: [
      `created       version ${created}: HttpTokens=required, copied from version ${info.defaultVersion}`,
      flags.setDefault ? `default       now version ${readBack.defaultVersion} (HttpTokens=${readBack.defaultTokens ?? 'optional'})` : `default       still version ${info.defaultVersion}: add --set-default, or point your Auto Scaling group at version ${created}`,
    ],
    text: `${ok ? 'done' : 'the default version does not read back as required'}; change recorded in ${ctx.changeLog.path}`,
  });
  if (failure !== null) throw failure;
  return ExitCode.OK;
}
