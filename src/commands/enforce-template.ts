// commands/: `imds-sniff enforce --launch-template` — a hardened launch template version, so instances launched later require IMDSv2 too.

import { createHardenedVersion, describeTemplate, hardenedTemplateData, setDefaultVersion, type TemplateRef } from '../aws/launch-template.js';
import type { ChangeTarget } from '../control/change-log.js';
import { EC2_DEFAULT_OPTIONS, hopLimitDecision } from '../control/metadata-options.js';
import { ExitCode, UsageError, type ExitCodeValue } from '../errors.js';
import { resolveTarget, type ControlContext } from './control-context.js';
import { gateJson, gateLines, printResult } from './control-report.js';
import { startChange } from './change-run.js';
import { applyGate, decideGate, type EnforcePlan } from './enforce-gate.js';
import type { EnforceFlags } from './enforce.js';

export async function enforceTemplate(ctx: ControlContext, flags: EnforceFlags, p: EnforcePlan, idOrName: string): Promise<ExitCodeValue> {
  if (ctx.region === null) throw new UsageError('no region: give --region', { hint: 'the region is read from IMDS on an instance' });
  const ref: TemplateRef = { client: ctx.ec2(ctx.region), region: ctx.region, idOrName };
  const info = await describeTemplate(ref);
  const meta = info.defaultData.MetadataOptions ?? {};
  const currentHop = meta.HttpPutResponseHopLimit ?? EC2_DEFAULT_OPTIONS.hopLimit;
  const current = { ...EC2_DEFAULT_OPTIONS, hopLimit: currentHop };
  // The evidence: the instance named by --instance-id, or this one (typically launched from the template).
  const evidence = flags.instanceId !== undefined || ctx.selfInstanceId !== null ? resolveTarget(ctx, flags) : null;
  const decision = await decideGate(ctx, evidence, p, (hop) => hopLimitDecision(current, { ...p.request, containerHopFailures: hop }).hopLimit);
  const hop = hopLimitDecision(current, { ...p.request, containerHopFailures: decision.containerHopFailures });
  const wantedEndpoint = p.request.disableEndpoint ? 'disabled' : (meta.HttpEndpoint ?? 'enabled');
  const target: ChangeTarget = { kind: 'launch-template', launch_template_id: info.id, region: ctx.region };
  const json: Record<string, unknown> = {
    event: 'enforce',
    launch_template_id: info.id,
    launch_template_name: info.name,
    region: ctx.region,
    default_version: info.defaultVersion,
    evidence_instance_id: evidence?.instanceId ?? null,
    before: { HttpTokens: meta.HttpTokens ?? null, HttpEndpoint: meta.HttpEndpoint ?? null, HttpPutResponseHopLimit: meta.HttpPutResponseHopLimit ?? null },
    hop_limit_note: hop.reason,
    gate: gateJson(decision.gate),
    dry_run: p.dryRun,
    forced: false,
  };
  const lines = [
    `template      ${info.id} (${info.name}, ${ctx.region}), default version ${info.defaultVersion}`,
    `before        HttpTokens=${meta.HttpTokens ?? 'optional (default)'} HttpEndpoint=${meta.HttpEndpoint ?? 'enabled (default)'} HopLimit=${meta.HttpPutResponseHopLimit ?? '1 (default)'}`,
    `evidence      ${evidence === null ? 'none' : `instance ${evidence.instanceId}`}`,
    ...gateLines(decision.gate, p.request.disableEndpoint ? 'disable-endpoint' : 'require-tokens'),
  ];
  const already = meta.HttpTokens === 'required' && (meta.HttpEndpoint ?? 'enabled') === wantedEndpoint && hop.hopLimit === currentHop;
  if (already) {
    printResult(flags.format, { ...json, result: 'already_enforced' }, [...lines, 'result        the default version already requires IMDSv2: nothing to change']);
    return ExitCode.OK;
  }
  const data = hardenedTemplateData(info.defaultData, { hopLimit: hop.reason === null ? null : hop.hopLimit, disableEndpoint: p.request.disableEndpoint });
  const description = `imds-sniff enforce: HttpTokens=required (from version ${info.defaultVersion})`;
  if (p.dryRun) {
    await createHardenedVersion(ref, info, data, description, true);
    if (flags.setDefault) await setDefaultVersion(ref, info.id, info.latestVersion, true);
    const refused = !decision.gate.ok && !p.force;
    printResult(flags.format, { ...json, result: refused ? 'dry_run_gate_refuses' : 'dry_run_ok' }, [
      ...lines,
      `result        dry run: EC2 would accept the new version${flags.setDefault ? ' and the default change' : ''}${refused ? ', but the gate refuses' : ''}; nothing was changed`,
    ]);
    return refused ? ExitCode.GATE_REFUSED : ExitCode.OK;
  }
  if (!decision.gate.ok && !p.force) printResult(flags.format, { ...json, result: 'refused' }, [...lines, 'result        refused: nothing was changed']);
  applyGate(decision.gate, p.force, `launch template ${info.id}`);

  const { record, audit } = startChange(ctx, {
    action: 'enforce',
    target,
    before: { default_version: info.defaultVersion, created_version: null },
    after: { default_version: info.defaultVersion, created_version: null },
    forced: !decision.gate.ok,
    local: false,
    undoes: null,
  });
  const auditBase = { time: record.time, action: 'enforce', change_id: record.id, target, forced: record.forced, gate_reasons: decision.gate.reasons, window_start: decision.gate.windowStart, min_observation_ms: p.minObservationMs, by: record.by };
  let version: number | undefined;
  let defaultVersion = info.defaultVersion;
  try {
    const created = (await createHardenedVersion(ref, info, data, description, false)) as number;
    version = created;
    ctx.changeLog.update(record.id, { result: 'applied', after: { default_version: defaultVersion, created_version: created } });
    if (flags.setDefault) {
      await setDefaultVersion(ref, info.id, created, false);
      defaultVersion = created;
      ctx.changeLog.update(record.id, { after: { default_version: created, created_version: created } });
    }
  } catch (error) {
    if (version === undefined) ctx.changeLog.update(record.id, { result: 'failed' });
    audit.write({ ...auditBase, result: version === undefined ? 'failed' : 'default_not_set', error: (error as Error).message });
    throw error;
  }
  const readBack = await describeTemplate(ref);
  const ok = !flags.setDefault || (readBack.defaultVersion === version && readBack.defaultTokens === 'required');
  audit.write({ ...auditBase, result: ok ? 'verified' : 'verify_failed', before: { default_version: info.defaultVersion }, after: { default_version: defaultVersion, created_version: version } });
  printResult(flags.format, { ...json, forced: record.forced, result: ok ? 'verified' : 'verify_failed', created_version: version, default_version_now: readBack.defaultVersion }, [
    ...lines,
    `created       version ${version}: HttpTokens=required, copied from version ${info.defaultVersion}`,
    flags.setDefault ? `default       now version ${readBack.defaultVersion} (HttpTokens=${readBack.defaultTokens ?? 'optional'})` : `default       still version ${info.defaultVersion}: add --set-default, or point your Auto Scaling group at version ${version}`,
    `result        ${ok ? 'done' : 'the default version does not read back as required'}; change recorded in ${ctx.changeLog.path}`,
  ]);
  return ok ? ExitCode.OK : ExitCode.VERIFY_FAILED;
}
