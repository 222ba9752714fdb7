// control/: `imds-sniff rollback` — restores the options (or the launch template default) the last `enforce` recorded, and verifies.

import { hostname } from 'node:os';
import { modifyMetadataOptions, type InstanceTarget } from '../aws/instance-metadata-options.js';
import { describeTemplate, isLaunchTemplateId, setDefaultVersion } from '../aws/launch-template.js';
import { ExitCode, GateRefusedError, UsageError, VerifyFailedError, type ExitCodeValue } from '../errors.js';
import { terminalSafe } from '../text/terminal-safe.js';
import { describeTarget, type ChangeRecord, type ChangeTarget, type TemplateVersions } from './change-log.js';
import { applyChange, callChange, readBackTemplate, startChange, updateRecord } from './change-run.js';
import { requireRegion, type ControlContext, type ControlFlags } from './control-context.js';
import { readInstanceOptions } from './instance-options.js';
import { describeChange, sameOptions, settingsOf, type MetadataOptions } from './metadata-options.js';
import { optionsJson, optionsLine, printOutcome, type Report } from './report.js';

/** What a rollback takes of the flags: which record (--instance-id, --launch-template), the output format, --force and --dry-run. */
export type RollbackOptions = Pick<ControlFlags, 'instanceId' | 'format'> & { force?: boolean; dryRun?: boolean; launchTemplate?: string };

async function findRecord(ctx: ControlContext, flags: RollbackOptions): Promise<ChangeRecord> {
  let wanted: ChangeTarget | null = null;
  if (flags.launchTemplate !== undefined || flags.instanceId !== undefined) {
    const region = requireRegion(ctx);
    // The record keeps the template's id: a name is resolved first.
    const templateId =
      flags.launchTemplate === undefined || isLaunchTemplateId(flags.launchTemplate)
        ? flags.launchTemplate
        : (await describeTemplate({ client: ctx.ec2(region), region, idOrName: flags.launchTemplate })).id;
    wanted =
      templateId !== undefined
        ? { kind: 'launch-template', launch_template_id: templateId, region }
        : { kind: 'instance', instance_id: flags.instanceId as string, region };
  }
  const record = wanted === null ? ctx.changeLog.lastOpenAny() : ctx.changeLog.lastOpenChange(wanted);
  if (record === null) {
    throw new UsageError(`nothing to roll back: no enforce${wanted === null ? '' : ` of ${describeTarget(wanted)}`} recorded in ${ctx.changeLog.path}`, {
      hint: 'rollback restores what imds-sniff enforce recorded on this host (see --state-dir); to set options by hand: aws ec2 modify-instance-metadata-options',
    });
  }
  return record;
}

/** Undoes the last open enforce (of --instance-id or --launch-template when given); prints the report, returns the exit code. */
export async function rollbackChange(ctx: ControlContext, flags: RollbackOptions, timeoutMs: number): Promise<ExitCodeValue> {
  const record = await findRecord(ctx, flags);
  return record.target.kind === 'instance' ? rollbackInstance(ctx, flags, record, timeoutMs) : rollbackTemplate(ctx, flags, record);
}

/** Takes the change lock before the first write, and checks that no other run closed the record since it was found. */
function lockRecord(ctx: ControlContext, record: ChangeRecord): void {
  ctx.lockChanges();
  const now = ctx.changeLog.read().find((r) => r.id === record.id);
  if (now === undefined || now.rolled_back_at !== null) {
    throw new UsageError(`nothing to roll back: enforce ${record.id} was rolled back by another run meanwhile (see ${ctx.changeLog.path})`);
  }
}

/** Refuses (exit 6, report printed) to undo a change that someone else changed since; with --force, warns. Returns whether forced. */
function checkUnchangedSince(changed: boolean, force: boolean, report: Report, message: string): boolean {
  if (!changed) return false;
  if (!force) {
    const refused = new GateRefusedError('ERR_CHANGED_SINCE_ENFORCE', message, { hint: 'someone else changed it; check CloudTrail, then --force restores the recorded state anyway' });
    printOutcome(report, 'refused', { text: 'refused: nothing was changed', error: refused });
    throw refused;
  }
  process.stderr.write(`imds-sniff: warning: --force: ${terminalSafe(message)}; restoring the recorded state anyway\n`);
  return true;
}

async function rollbackInstance(ctx: ControlContext, flags: RollbackOptions, record: ChangeRecord, timeoutMs: number): Promise<ExitCodeValue> {
  const t = record.target as Extract<ChangeTarget, { kind: 'instance' }>;
  const it: InstanceTarget = { client: ctx.ec2(t.region), instanceId: t.instance_id, region: t.region };
  const before = record.before as MetadataOptions;
  const setByEnforce = record.after as MetadataOptions;
  const current = await readInstanceOptions(it);
  // With IMDS off on this host its identity is unknown: the record says whether it was this host.
  const local = ctx.selfInstanceId === t.instance_id || (ctx.selfInstanceId === null && record.local && record.by.host === hostname());
  const report: Report = {
    format: flags.format,
    json: { event: 'rollback', instance_id: t.instance_id, region: t.region, this_host: local, undoes: record.id, now: optionsJson(current), restore: optionsJson(before), dry_run: flags.dryRun === true, forced: false },
    lines: [
      `instance      ${t.instance_id} (${t.region})${local ? ', this host' : ''}`,
      `undoes        enforce ${record.id} of ${record.time} by ${record.by.user}@${record.by.host}`,
      `now           ${optionsLine(current)}`,
      `change        ${describeChange(current, before)}`,
    ],
  };
  if (sameOptions(current, before)) {
    if (!flags.dryRun) {
      lockRecord(ctx, record);
      ctx.changeLog.update(record.id, { rolled_back_at: new Date().toISOString() });
    }
    printOutcome(report, 'already_restored', { text: 'already has the recorded options: nothing to change' });
    return ExitCode.OK;
  }
  const forced = checkUnchangedSince(!sameOptions(current, setByEnforce), flags.force === true, report,
    `instance ${t.instance_id} was changed since enforce set it (enforce set ${describeChange(before, setByEnforce)}; now ${optionsLine(current)})`);
  report.json['forced'] = forced;
  if (flags.dryRun) {
    await modifyMetadataOptions(it, before, true);
    printOutcome(report, 'dry_run_ok', { text: 'dry run: EC2 would accept the change with these credentials; nothing was changed' });
    return ExitCode.OK;
  }
  lockRecord(ctx, record);
  const run = startChange(
    ctx,
    { action: 'rollback', target: record.target, before: settingsOf(current), after: before, forced, local, undoes: record.id },
    { before: optionsJson(current), after: optionsJson(before) },
    report,
  );
  return applyChange(run, {
    it,
    desired: before,
    before: settingsOf(current),
    timeoutMs,
    // EC2 has the old options back once the modify is accepted, whatever the check on this host says.
    onAccepted: () => updateRecord(run, record.id, { rolled_back_at: run.record.time }),
  });
}

async function rollbackTemplate(ctx: ControlContext, flags: RollbackOptions, record: ChangeRecord): Promise<ExitCodeValue> {
  const t = record.target as Extract<ChangeTarget, { kind: 'launch-template' }>;
  const before = record.before as TemplateVersions;
  const after = record.after as TemplateVersions;
  const ref = { client: ctx.ec2(t.region), region: t.region, idOrName: t.launch_template_id };
  const info = await describeTemplate(ref);
  const report: Report = {
    format: flags.format,
    json: { event: 'rollback', launch_template_id: t.launch_template_id, region: t.region, undoes: record.id, default_version_now: info.defaultVersion, restore_default_version: before.default_version, dry_run: flags.dryRun === true, forced: false },
    lines: [`template      ${t.launch_template_id} (${t.region}), default version now ${info.defaultVersion}`, `undoes        enforce ${record.id} of ${record.time}: created version ${after.created_version ?? '-'}`],
  };
  if (info.defaultVersion === before.default_version) {
    if (!flags.dryRun) {
      lockRecord(ctx, record);
      ctx.changeLog.update(record.id, { rolled_back_at: new Date().toISOString() });
    }
    printOutcome(report, 'already_restored', { text: `the default is version ${before.default_version} as before: nothing to change (version ${after.created_version ?? '-'} stays, unused)` });
    return ExitCode.OK;
  }
  const forced = checkUnchangedSince(info.defaultVersion !== after.default_version, flags.force === true, report,
    `launch template ${t.launch_template_id}: default version is ${info.defaultVersion}, not ${after.default_version} as enforce left it`);
  report.json['forced'] = forced;
  if (flags.dryRun) {
    await setDefaultVersion(ref, t.launch_template_id, before.default_version, true);
    printOutcome(report, 'dry_run_ok', { text: 'dry run: EC2 would accept the change; nothing was changed' });
    return ExitCode.OK;
  }
  lockRecord(ctx, record);
  const run = startChange(
    ctx,
    { action: 'rollback', target: t, before: { default_version: info.defaultVersion, created_version: null }, after: { default_version: before.default_version, created_version: null }, forced, local: false, undoes: record.id },
    { before: { default_version: info.defaultVersion }, after: { default_version: before.default_version } },
    report,
  );
  await callChange(run, () => setDefaultVersion(ref, t.launch_template_id, before.default_version, false));
  updateRecord(run, run.record.id, { result: 'applied' });
  updateRecord(run, record.id, { rolled_back_at: run.record.time });
  const readBack = await readBackTemplate(run, ref);
  const ok = readBack.defaultVersion === before.default_version;
  run.audit.write({ ...run.auditBase, result: ok ? 'verified' : 'verify_failed' });
  const failure = ok ? null : new VerifyFailedError(`launch template ${ref.idOrName}: the default version reads back as ${readBack.defaultVersion}, not the recorded ${before.default_version}`, {
    hint: 'check the template in the console, then run imds-sniff rollback again',
  });
  printOutcome(report, ok ? 'verified' : 'verify_failed', {
    error: failure,
    json: { default_version_after: readBack.defaultVersion },
    lines: [`default       now version ${readBack.defaultVersion} (HttpTokens=${readBack.defaultTokens ?? 'optional'}); version ${after.created_version ?? '-'} stays, unused`],
    text: ok ? 'done' : 'the default did not change',
  });
  if (failure !== null) throw failure;
  return ExitCode.OK;
}
