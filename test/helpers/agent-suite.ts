// The hooks every suite that runs the agent in its own testbed shares: the testbed made before all,
// each test's agent stopped after it (whether it passed or not), everything removed after all.

import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { AgentProcess } from '../../src/testbed/agent-process.js';
import { createTestbed, destroyStaleTestbeds, type Testbed, type TestbedOptions } from '../../src/testbed/testbed.js';

export interface AgentSuite {
  /** The suite's testbed (from beforeAll on). */
  readonly tb: Testbed;
  /** Starts the agent in the testbed's host namespace (no identity call), under `wrapper` if given; it must attribute with tracefs. */
  startAgent(args?: string[], wrapper?: readonly string[]): Promise<AgentProcess>;
}

/** Call at the top of a describe block; `afterEachTest` runs after the test's agent stopped (e.g. to reset the mock). */
export function agentSuite(options: TestbedOptions & { prefix: string }, afterEachTest?: (tb: Testbed) => Promise<unknown>): AgentSuite {
  let tb: Testbed | undefined;
  let agent: AgentProcess | null = null;

  beforeAll(async () => {
    tb = await createTestbed(options);
  });

  afterEach(async () => {
    if (agent) await agent.stop();
    agent = null;
    if (tb && afterEachTest) await afterEachTest(tb);
  });

  afterAll(async () => {
    await agent?.stop();
    await tb?.destroy();
    await destroyStaleTestbeds(options.prefix);
  });

  return {
    get tb(): Testbed {
      if (!tb) throw new Error('the testbed is made in beforeAll');
      return tb;
    },
    async startAgent(args: string[] = [], wrapper: readonly string[] = []): Promise<AgentProcess> {
      agent = await AgentProcess.start(this.tb.nsName('host'), ['--no-identity', ...args], undefined, [], wrapper);
      expect(agent.startEvent?.attribution_method).toBe('tracefs');
      return agent;
    },
  };
}
