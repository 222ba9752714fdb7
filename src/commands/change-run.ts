// commands/: what every change does around its AWS call — audit log and record checked first, the record
// written before, then (for an instance) modify, wait for `applied`, verify on this host, one audit line.

import { modifyMetadataOptions, waitUntilApplied, type InstanceTarget } from '../aws/instance-metadata-options.js';
import { verifyOnHost } from '../aws/imds-verify.js';
import { currentActor, type ChangeRecord } from '../control/change-log.js';
import type { MetadataOptions } from '../control/metadata-options.js';
import type { AwsApiError, ExitCodeValue } from '../errors.js';
import { AuditLog } from '../sinks/audit-log.js';
import type { ControlContext } from './control-context.js';
import { printResult } from './control-report.js';
import { applyVerification, verificationLines } from './verification.js';

/** The fields of a record the caller decides; time, actor and bookkeeping are filled in here. */
export type NewChange = Pick<ChangeRecord, 'action' | 'target' | 'before' | 'after' | 'forced' | 'local' | 'undoes'>;

/** A change about to be made: its record (already written) and the audit log to report it to. */
export interface StartedChange {
  record: ChangeRecord;
  audit: AuditLog;
}

/**
 * Checks that the audit log and the change record can be written, then writes
 * the record (`requested`). Nothing in AWS may change before this returns: a
 * change that could not be recorded could not be rolled back.
 */
export function startChange(ctx: ControlContext, change: NewChange): StartedChange {
  const audit = new AuditLog(ctx.config.logs.eventsFile);
  audit.check();
  ctx.changeLog.ensureWritable();
  const record = ctx.changeLog.append({ ...change, time: new Date().toISOString(), result: 'requested', by: currentActor(), rolled_back_at: null });
  return { record, audit };
}

/** What applyChange needs: the change, its record and audit line, and the report so far. */
export interface ChangeRun extends StartedChange {
  ctx: ControlContext;
  it: InstanceTarget;
  desired: MetadataOptions;
  /** The options before the change (reads still showing them are not yet consistent, not someone else's change). */
  before: MetadataOptions;
  timeoutMs: number;
  /** Fields of the audit line besides the result. */
  auditBase: Record<string, unknown> & { time: string; action: string };
  json: Record<string, unknown>;
  lines: string[];
  format: 'table' | 'json';
  /** Called once EC2 accepted the change (rollback closes the enforce record it undoes). */
  onAccepted?: () => void;
}

/** Modifies, waits for `applied`, verifies on this host (when it is the instance), writes the audit line and the report. */
export async function applyChange(run: ChangeRun): Promise<ExitCodeValue> {
  const { ctx, it, audit, auditBase, record } = run;
  try {
    await modifyMetadataOptions(it, run.desired, false);
  } catch (error) {
    ctx.changeLog.update(record.id, { result: 'failed' });
    audit.write({ ...auditBase, result: 'failed', error: (error as Error).message });
    throw error;
  }
  ctx.changeLog.update(record.id, { result: 'applied' });
  run.onAccepted?.();
  let waitedMs: number;
  try {
    waitedMs = (await waitUntilApplied(it, run.desired, run.before, run.timeoutMs)).waitedMs;
  } catch (error) {
    audit.write({ ...auditBase, result: (error as AwsApiError).code === 'ERR_CHANGED_MEANWHILE' ? 'changed_meanwhile' : 'not_applied', error: (error as Error).message });
    throw error;
  }
  const verification = record.local ? await verifyOnHost(run.desired, run.timeoutMs) : null;
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
