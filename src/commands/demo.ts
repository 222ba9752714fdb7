// commands/: `imds-sniff demo` — a throw-away namespace testbed, a mock IMDS, real clients, the agent on it.

import { ExitCode, TestbedError, type ExitCodeValue } from '../errors.js';
import { createTestbed, type Testbed } from '../testbed/testbed.js';
import { AgentProcess } from '../testbed/agent-process.js';
import { runDemoScenario } from '../testbed/demo-scenario.js';
import { scaledMs } from '../testbed/time-scale.js';
import { openOutput } from './output.js';
import { stopOnSignals } from './signals.js';
import { terminalSafe } from '../text/terminal-safe.js';

const AGENT_WAIT_MS = scaledMs(15_000);

export async function runDemo(flags: { format: 'table' | 'json' }): Promise<ExitCodeValue> {
  const sink = openOutput(flags.format, undefined);
  const signals = stopOnSignals(() => {});
  const say = (text: string): void => {
    process.stderr.write(`demo: ${terminalSafe(text)}\n`);
  };
  let testbed: Testbed | null = null;
  let agent: AgentProcess | null = null;
  const interrupted = signals.stop.then(() => 'interrupted' as const);
  try {
    say('building the testbed: host, IMDS and container namespaces, mock IMDS (HttpTokens=optional, hop limit 1)');
    testbed = await createTestbed({ prefix: `imdsdemo${process.pid}`, mock: { httpTokens: 'optional', hopLimit: 1 } });
    say(`starting the agent in ${testbed.nsName('host')}`);
    agent = await AgentProcess.start(testbed.nsName('host'), []);
    const running = agent;
    const work = (async () => {
      const steps = await runDemoScenario(testbed as Testbed, (step) => say(`ran ${step.label} (pid ${step.run.pid}, exit ${step.run.code})`));
      const expected = steps.reduce((sum, s) => sum + s.requests, 0);
      await running.waitForRequests(expected, AGENT_WAIT_MS, (e) => !e.own);
      return 'done' as const;
    })();
    const outcome = await Promise.race([work, interrupted]);
    const exit = await running.stop();
    for (const event of running.events) sink.write(event);
    if (outcome === 'interrupted') {
      say('interrupted: tearing down');
      return ExitCode.INTERRUPTED;
    }
    if (!exit.summary) {
      throw new TestbedError(`the agent ended without a summary (exit ${exit.code}): ${exit.stderr.trim().split('\n').pop() ?? ''}`);
    }
    say('done: the summary above comes from the agent that ran inside the testbed');
    return ExitCode.OK;
  } finally {
    if (agent) await agent.stop().catch(() => undefined);
    if (testbed) await testbed.destroy();
    signals.dispose();
    await sink.close();
  }
}
