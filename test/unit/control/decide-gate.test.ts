import { describe, expect, it } from 'vitest';
import type { ControlContext } from '../../../src/control/control-context.js';
import { decideGate } from '../../../src/control/decide-gate.js';
import { EC2_DEFAULT_OPTIONS } from '../../../src/control/metadata-options.js';

describe('decideGate', () => {
  it('with no instance to take the observation from (a launch template off EC2), refuses and says what to give', async () => {
    // No target: nothing is read, so the context is never asked.
    const decision = await decideGate({} as ControlContext, null, { minObservationMs: 3_600_000, request: { hopLimit: null, disableEndpoint: false }, force: false }, EC2_DEFAULT_OPTIONS);
    expect(decision.gate).toMatchObject({ ok: false, mode: 'require-tokens', reasons: [expect.stringMatching(/no observation to gate on: .*give --instance-id/)] });
    expect(decision.observation).toBeNull();
    expect(decision.hop).toEqual({ hopLimit: 1, reason: null });
  });
});
