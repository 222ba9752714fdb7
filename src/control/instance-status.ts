// control/: what `imds-sniff status` reports — the instance's options, what the agent observed, the gate for enforce, and the verdict.

import { ExitCode, type ExitCodeValue } from '../errors.js';
import { resolveTarget, type ControlContext, type ControlFlags } from './control-context.js';
import { decideGate } from './decide-gate.js';
import { readInstanceOptions } from './instance-options.js';
import type { Observation } from './observation.js';
import { describeObservation, gateJson, gateLines, observationJson, optionsJson, optionsLine, printResult, processTable } from './report.js';
import { verdictOf } from './verdict.js';

/** Reads the target's options and observation, runs the gate as enforce would, prints it all with the verdict; 0 when ready, else 3. */
export async function reportStatus(ctx: ControlContext, flags: Pick<ControlFlags, 'instanceId' | 'format'>, minObservationMs: number): Promise<ExitCodeValue> {
  const target = resolveTarget(ctx, flags);
  const options = await readInstanceOptions({ client: ctx.ec2(target.region), instanceId: target.instanceId, region: target.region });
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
