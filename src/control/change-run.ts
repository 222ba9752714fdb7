// control/: the change run — what every change does around its AWS call — one change at a time, audit log and record
// written before, the call, then (for an instance) wait for `applied`, verify on this host, one audit line.

import { outcomeUnknown } from '../aws/aws-errors.js';
import { modifyMetadataOptions, type InstanceTarget } from '../aws/instance-metadata-options.js';
import { verifyOnHost } from '../aws/imds-verify.js';
import { describeTemplate, type TemplateInfo, type TemplateRef } from '../aws/launch-template.js';
import { currentActor, type ChangeRecord } from './change-log.js';
import { readInstanceOptions } from './instance-options.js';
import { sameOptions, type MetadataOptions } from './metadata-options.js';
import { AwsApiError, ExitCode, type ExitCodeValue, type ImdsSniffError } from '../errors.js';
import { AuditLog } from '../log/audit-log.js';
import type { ControlContext } from './control-context.js';
import { printOutcome, type Report } from './report.js';
import { verificationFailure, verificationLines } from './verification.js';
import { waitUntilApplied } from './wait-until-applied.js';
import { terminalSafe } from '../text/terminal-safe.js';

/** The fields of a record the caller decides; time, actor and bookkeeping are filled in here. */
export type NewChange = Pick<ChangeRecord, 'action' | 'target' | 'before' | 'after' | 'forced' | 'local' | 'undoes'>;

/** A change about to be made: its record (already written), the audit log and the fields of its audit line. */
export interface StartedChange {
  ctx: ControlContext;
  record: ChangeRecord;
  audit: AuditLog;
  /** Every field of the audit line but the result. */
  auditBase: Record<string, unknown> & { time: string; action: string };
  report: Report;
}

/**
 * Runs a command that may change something, and releases the change lock it
 * took (ControlContext.lockChanges, before its first write), however it ends.
 */
export async function holdingChangeLock<T>(ctx: ControlContext, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } finally {
    ctx.releaseChanges();
  }
}

/**
 * Takes the change lock, checks that the audit log can be written, then writes the record
 * (`requested`). Nothing in AWS may change before this returns: a change that
 * could not be recorded could not be rolled back. `audit` holds the fields of
 * the audit line besides the common ones (before, after, gate…).
 */
export function startChange(ctx: ControlContext, change: NewChange, audit: Record<string, unknown>, report: Report): StartedChange {
  ctx.lockChanges();
  const log = new AuditLog(ctx.config.logs.eventsFile);
  log.check();
  const record = ctx.changeLog.append({ ...change, time: new Date().toISOString(), result: 'requested', by: currentActor(), rolled_back_at: null });
  const auditBase = {
    time: record.time,
    action: record.action,
    change_id: record.id,
    ...(record.undoes === null ? {} : { undoes: record.undoes }),
    target: record.target,
    forced: record.forced,
    by: record.by,
    ...audit,
  };
  return { ctx, record, audit: log, auditBase, report };
}

/**
 * Writes the audit line of a change that did not end well and prints the
 * report with that result; `thrown` is the error the run ends with, when it
 * wraps `error` (its code goes in the report).
 */
export function reportFailure(run: StartedChange, result: string, error: unknown, thrown: unknown = error): void {
  const message = (error as Error).message;
  run.audit.write({ ...run.auditBase, result, error: message });
  printOutcome(run.report, result, { json: { error: message }, error: thrown });
}

/**
 * Updates a record after the change was sent. The change is made (or may be):
 * a record that cannot be written is a warning, the audit line still tells.
 */
export function updateRecord(run: StartedChange, id: string, patch: Partial<ChangeRecord>): void {
  try {
    run.ctx.changeLog.update(id, patch);
  } catch (error) {
    process.stderr.write(`imds-sniff: warning: ${terminalSafe(`the change went ahead, but record ${id} could not be updated with ${JSON.stringify(patch)}: ${(error as Error).message}`)}\n`);
  }
}

/**
 * Makes the AWS call of a started change. When it fails, the record says
 * `failed` (EC2 refused it) or `unknown` (no clear answer: it may have been
 * made, so rollback still finds it), the audit line and report say so, and the
 * error is rethrown. `madeAnyway`, asked before an unknown outcome is
 * reported, can find the change in place after all: what it returns then
 * (anything but `false`) stands for the call's answer.
 */
export async function callChange<T>(run: StartedChange, call: () => Promise<T>, madeAnyway?: () => Promise<T | false>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const unknown = outcomeUnknown(error);
    const found = unknown && madeAnyway !== undefined ? await madeAnyway().catch(() => false as const) : false;
    if (found !== false) return found;
    updateRecord(run, run.record.id, { result: unknown ? 'unknown' : 'failed' });
    const hint = (error as ImdsSniffError).hint;
    const thrown = !unknown
      ? error
      : new AwsApiError('ERR_AWS_OUTCOME_UNKNOWN', `${(error as Error).message}; the change may have been made all the same`, {
        hint: `${hint === undefined ? '' : `${hint}; `}run imds-sniff status: if it was made, imds-sniff rollback restores what was recorded in ${run.ctx.changeLog.path}`,
        cause: error,
      });
    reportFailure(run, unknown ? 'unknown' : 'failed', error, thrown);
    throw thrown;
  }
}

/** What applyChange needs besides the started change. */
export interface InstanceChange {
  it: InstanceTarget;
  desired: MetadataOptions;
  /** The options before the change (reads still showing them are not yet consistent, not someone else's change). */
  before: MetadataOptions;
  /** One deadline for `applied` and for the answers on this host. */
  timeoutMs: number;
  /** Called once EC2 accepted the change (rollback closes the enforce record it undoes). */
  onAccepted?: () => void;
}

/** Modifies, waits for `applied`, verifies on this host (when it is the instance), writes the audit line and the report. */
export async function applyChange(run: StartedChange, change: InstanceChange): Promise<ExitCodeValue> {
  const { ctx, record } = run;
  // No clear answer: if the instance reads back as asked, the call got through.
  const readsAsDesired = async (): Promise<void | false> => (sameOptions(await readInstanceOptions(change.it), change.desired) ? undefined : false);
  await callChange(run, () => modifyMetadataOptions(change.it, change.desired, false), readsAsDesired);
  const deadlineMs = Date.now() + change.timeoutMs;
  updateRecord(run, record.id, { result: 'applied' });
  change.onAccepted?.();
  let waitedMs: number;
  try {
    waitedMs = await waitUntilApplied(change.it, change.desired, change.before, deadlineMs);
  } catch (error) {
    reportFailure(run, (error as ImdsSniffError).code === 'ERR_CHANGED_AFTER_APPLY' ? 'changed_meanwhile' : 'not_applied', error);
    throw error;
  }
  // The host check probes at least once, whatever is left of the deadline.
  const verification = record.local ? await verifyOnHost(change.desired, Math.max(0, deadlineMs - Date.now())) : null;
  const result = verification === null ? 'applied' : verification.ok ? 'verified' : 'verify_failed';
  run.audit.write({ ...run.auditBase, result, applied_after_ms: waitedMs, verification });
  const failure = verificationFailure(verification, change.it.instanceId);
  printOutcome(run.report, result, {
    json: { applied_after_ms: waitedMs, verification },
    lines: [`applied       State=applied after ${(waitedMs / 1000).toFixed(1)} s`, ...verificationLines(verification)],
    text: `${result}; change recorded in ${ctx.changeLog.path}`,
    error: failure,
  });
  if (failure !== null) throw failure;
  return ExitCode.OK;
}

/** Reads a launch template back after its change; a failed read is reported as `verify_failed` before it is rethrown. */
export async function readBackTemplate(run: StartedChange, ref: TemplateRef): Promise<TemplateInfo> {
  try {
    return await describeTemplate(ref);
  } catch (error) {
    reportFailure(run, 'verify_failed', error);
    throw error;
  }
}
