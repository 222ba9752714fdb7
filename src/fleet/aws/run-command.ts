// fleet/aws/: runs the gated on-host command through SSM Run Command (SendCommand, 50 instances a call) and collects each instance's result.

import { ListCommandInvocationsCommand, SendCommandCommand, type CommandInvocation } from '@aws-sdk/client-ssm';
import { hostOutcome, type HostResult } from '../enforce/outcome.js';
import type { Scope } from '../model.js';
import type { FleetAws } from './session.js';
import { throttleSafe } from './throttle-safe.js';

/** SendCommand takes at most 50 instance ids. */
export const INSTANCES_PER_COMMAND = 50;
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated', 'DeliveryTimedOut', 'ExecutionTimedOut', 'InvalidPlatform', 'AccessDenied']);
/** What may follow `imds-sniff enforce|rollback` on the instance: the packaged document's allowedPattern. */
export const HOST_ARGS = /^[A-Za-z0-9 ._=:-]{0,200}$/;

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
  const ssm = aws.ssm(scope);
  const out: CommandInvocation[] = [];
  let NextToken: string | undefined;
  do {
    const page = await throttleSafe(() => ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true, NextToken })));
    out.push(...(page.CommandInvocations ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/**
 * Sends the command to the instances (in calls of 50, each with the wave's
 * MaxConcurrency and MaxErrors), then polls until every instance has a final
 * status or the timeout passes (those are `failed`, still running).
 */
export async function runOnInstances(aws: FleetAws, scope: Scope, instanceIds: string[], o: RunCommandOptions): Promise<ScopeRun> {
  const ssm = aws.ssm(scope);
  const commandIds: string[] = [];
  for (let at = 0; at < instanceIds.length; at += INSTANCES_PER_COMMAND) {
    const out = await throttleSafe(() => ssm.send(new SendCommandCommand({
      DocumentName: o.document,
      InstanceIds: instanceIds.slice(at, at + INSTANCES_PER_COMMAND),
      Parameters: parameters(o),
      MaxConcurrency: o.maxConcurrency,
      MaxErrors: o.maxErrors,
      Comment: o.comment.slice(0, 100),
      TimeoutSeconds: Math.max(30, Math.ceil(o.timeoutMs / 1000)),
    })));
    if (out.Command?.CommandId) commandIds.push(out.Command.CommandId);
  }
  const deadline = Date.now() + o.timeoutMs;
  const final = new Map<string, HostResult>();
  while (final.size < instanceIds.length) {
    for (const commandId of commandIds) {
      for (const inv of await invocations(aws, scope, commandId)) {
        const id = inv.InstanceId ?? '';
        const status = inv.StatusDetails ?? inv.Status ?? 'Pending';
        if (id === '' || final.has(id) || !(TERMINAL.has(status) || TERMINAL.has(inv.Status ?? ''))) continue;
        const plugin = inv.CommandPlugins?.[0];
        final.set(id, hostOutcome(o.action, id, status, plugin?.ResponseCode ?? null, plugin?.Output ?? '', ''));
      }
    }
    if (final.size >= instanceIds.length || Date.now() >= deadline) break;
    await sleep(o.pollMs ?? 5_000);
  }
  const results = instanceIds.map((id) => final.get(id) ?? { instanceId: id, outcome: 'failed' as const, processes: [], detail: `no final status within ${Math.round(o.timeoutMs / 1000)} s (SSM agent offline, or MaxErrors stopped the command)` });
  return { scope, commandIds, results };
}
