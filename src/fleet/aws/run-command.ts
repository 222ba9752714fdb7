// fleet/aws/: runs the gated on-host command through SSM Run Command (SendCommand, 50 instances a call) and collects each instance's result.

import { CancelCommandCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, SendCommandCommand, type CommandInvocation } from '@aws-sdk/client-ssm';
import { hostOutcome, type HostResult } from '../enforce/outcome.js';
import type { Scope } from '../model.js';
import type { FleetAws } from './session.js';
import { allPages, throttleSafe } from './throttle-safe.js';

/** SendCommand takes at most 50 instance ids. */
export const INSTANCES_PER_COMMAND = 50;
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated', 'DeliveryTimedOut', 'ExecutionTimedOut', 'InvalidPlatform', 'AccessDenied']);
/** What may follow `imds-sniff enforce|rollback` on the instance: the packaged document's allowedPattern. */
export const HOST_ARGS = /^[A-Za-z0-9 ._=:-]{0,200}$/;

/** The on-host flags a wave may pass: none that bypasses the gate (--force) or points it at another instance (--instance-id). */
const HOST_FLAGS: Record<string, RegExp | null> = {
  '--min-observation': /^\d+(\.\d+)?(ms|s|m|h|d)?$/,
  '--timeout': /^\d+(\.\d+)?(ms|s|m|h|d)?$/,
  '--hop-limit': /^\d{1,2}$/,
  '--dry-run': null,
};

/** Why `text` may not be passed to the on-host command, or null when it may. */
export function hostArgsProblem(text: string): string | null {
  if (!HOST_ARGS.test(text)) return 'it may only hold letters, digits, spaces and . _ = : -';
  const words = text.split(' ').filter((w) => w !== '');
  for (let i = 0; i < words.length; i++) {
    const [flag = '', inline] = (words[i] ?? '').split('=', 2);
    if (!(flag in HOST_FLAGS)) return `${flag} is not allowed (only ${Object.keys(HOST_FLAGS).join(', ')})`;
    const value = HOST_FLAGS[flag];
    if (value === null || value === undefined) {
      if (inline !== undefined) return `${flag} takes no value`;
      continue;
    }
    const given = inline ?? words[++i];
    if (given === undefined || !value.test(given)) return `${flag} needs a value like ${flag === '--hop-limit' ? '2' : '7d'}`;
  }
  return null;
}

export interface RunCommandOptions {
  /** `AWS-RunShellScript`, or the packaged imds-sniff document (its `enforce` action). */
  document: string;
  action: 'enforce' | 'rollback';
  hostArgs: string;
  maxConcurrency: string;
  maxErrors: string;
  timeoutMs: number;
  pollMs?: number;
  comment: string;
}

export interface ScopeRun {
  scope: Scope;
  commandIds: string[];
  results: HostResult[];
}

function parameters(o: RunCommandOptions): Record<string, string[]> {
  if (o.document === 'AWS-RunShellScript') return { commands: [`imds-sniff ${o.action} --format json${o.hostArgs === '' ? '' : ` ${o.hostArgs}`}`] };
  return { action: [o.action], enforceArgs: [o.hostArgs] };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every invocation of a command (paginated), with plugin output. */
async function invocations(aws: FleetAws, scope: Scope, commandId: string): Promise<CommandInvocation[]> {
  const pages = await allPages((NextToken) => aws.ssm(scope).send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true, NextToken })), (p) => p.NextToken);
  return pages.flatMap((p) => p.CommandInvocations ?? []);
}

/** Every instance of one SendCommand, polled until each has a final status or the deadline passes. */
async function collect(aws: FleetAws, scope: Scope, commandId: string, instanceIds: string[], o: RunCommandOptions, deadline: number): Promise<Map<string, HostResult>> {
  const final = new Map<string, HostResult>();
  for (;;) {
    for (const inv of await invocations(aws, scope, commandId)) {
      const id = inv.InstanceId ?? '';
      const status = inv.StatusDetails ?? inv.Status ?? 'Pending';
      if (id === '' || final.has(id) || !(TERMINAL.has(status) || TERMINAL.has(inv.Status ?? ''))) continue;
      const plugin = inv.CommandPlugins?.[0];
      let result = hostOutcome(o.action, id, status, plugin?.ResponseCode ?? null, plugin?.Output ?? '', '');
      if (result.outcome === 'failed' && plugin?.ResponseCode === 0) {
        // ListCommandInvocations cuts the output at 2500 characters: the whole of it says what happened.
        const full = await throttleSafe(() => aws.ssm(scope).send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id })));
        result = hostOutcome(o.action, id, status, full.ResponseCode ?? 0, full.StandardOutputContent ?? '', full.StandardErrorContent ?? '');
      }
      final.set(id, result);
    }
    if (final.size >= instanceIds.length || Date.now() >= deadline) return final;
    await sleep(o.pollMs ?? 5_000);
  }
}

/** MaxErrors as a number of instances out of `total` ("1", "10%"). */
function errorLimit(maxErrors: string, total: number): number {
  return maxErrors.endsWith('%') ? Math.floor((Number(maxErrors.slice(0, -1)) * total) / 100) : Number(maxErrors);
}

/**
 * Sends the command to the instances in calls of 50, one call after the
 * other: each with the wave's MaxConcurrency and MaxErrors, and no further
 * call once the failures (refusals included) exceed MaxErrors for the whole
 * wave. Polls until every instance has a final status or the timeout passes;
 * then what still runs is cancelled and reported failed.
 */
export async function runOnInstances(aws: FleetAws, scope: Scope, instanceIds: string[], o: RunCommandOptions): Promise<ScopeRun> {
  const ssm = aws.ssm(scope);
  const commandIds: string[] = [];
  const deadline = Date.now() + o.timeoutMs;
  const limit = errorLimit(o.maxErrors, instanceIds.length);
  const final = new Map<string, HostResult>();
  let errors = 0;
  for (let at = 0; at < instanceIds.length; at += INSTANCES_PER_COMMAND) {
    const batch = instanceIds.slice(at, at + INSTANCES_PER_COMMAND);
    if (errors > limit) {
      for (const id of batch) final.set(id, { instanceId: id, outcome: 'failed', processes: [], detail: `not sent: ${errors} failures passed --max-errors ${o.maxErrors}` });
      continue;
    }
    const out = await throttleSafe(() => ssm.send(new SendCommandCommand({
      DocumentName: o.document,
      InstanceIds: batch,
      Parameters: parameters(o),
      MaxConcurrency: o.maxConcurrency,
      MaxErrors: o.maxErrors,
      Comment: o.comment.slice(0, 100),
      TimeoutSeconds: Math.max(30, Math.ceil(o.timeoutMs / 1000)),
    })));
    const commandId = out.Command?.CommandId;
    if (!commandId) continue;
    commandIds.push(commandId);
    const results = await collect(aws, scope, commandId, batch, o, deadline);
    if (results.size < batch.length) {
      await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: batch.filter((id) => !results.has(id)) })).catch(() => undefined);
    }
    for (const [id, r] of results) final.set(id, r);
    errors += [...results.values()].filter((r) => r.outcome === 'refused' || r.outcome === 'failed').length + (batch.length - results.size);
  }
  const results = instanceIds.map((id) => final.get(id) ?? { instanceId: id, outcome: 'failed' as const, processes: [], detail: `no final status within ${Math.round(o.timeoutMs / 1000)} s (SSM agent offline, or MaxErrors stopped the command); cancelled` });
  return { scope, commandIds, results };
}
