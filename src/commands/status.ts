// commands/: `imds-sniff status` — the instance's metadata options next to what the agent observed, and a verdict.

import { describeMetadataOptions } from '../aws/instance-metadata-options.js';
import { parseDuration } from '../config/duration.js';
import type { Observation } from '../control/observation.js';
import { verdictOf } from '../control/verdict.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { controlContext, resolveTarget, type ControlFlags } from './control-context.js';
import { decideGate } from './enforce-gate.js';
import { describeObservation, gateJson, gateLines, observationJson, optionsJson, optionsLine, printResult, processTable } from './control-report.js';

export interface StatusFlags extends ControlFlags {
  minObservation: string;
}

export async function runStatus(flags: StatusFlags): Promise<ExitCodeValue> {
  const minObservationMs = parseDuration(flags.minObservation, '--min-observation');
  const ctx = await controlContext(flags);
  const target = resolveTarget(ctx, flags);
  const options = await describeMetadataOptions({ client: ctx.ec2(target.region), instanceId: target.instanceId, region: target.region });
  const decision = await decideGate(ctx, target, { minObservationMs, request: { hopLimit: null, disableEndpoint: false }, force: false }, options);
  const { gate, hop } = decision;
  const observation = decision.observation as Observation; // only null for a forced change
  const nowMs = Date.now();
  const verdict = verdictOf(options, gate);
  printResult(
    flags.format,
    {
      event: 'status',
      instance_id: target.instanceId,
      region: target.region,
      this_host: target.local,
      options: optionsJson(options),
      observation: observationJson(observation, nowMs),
      gate: gateJson(gate),
      hop_limit_note: hop.reason,
      verdict: verdict.text,
    },
    [
      `instance      ${target.instanceId} (${target.region})${target.local ? ', this host' : ''}`,
      `options       ${optionsLine(options)}`,
      `observed      ${describeObservation(observation, nowMs)}`,
      ...processTable(observation),
      ...gateLines(gate),
      ...(hop.reason === null ? [] : [`hop limit     enforce would set ${hop.hopLimit}: ${hop.reason}`]),
      `verdict       ${verdict.text}`,
    ],
  );
  return verdict.ready ? ExitCode.OK : ExitCode.IMDSV1_SEEN;
}
