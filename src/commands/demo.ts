// commands/: `imds-sniff demo` — a throw-away namespace testbed, a mock IMDS, real clients, the agent on it; the testbed loads only here.

import { Option } from 'commander';
import { ExitCode, TestbedError, type ExitCodeValue } from '../errors.js';
import type { Testbed } from '../testbed/testbed.js';
import type { AgentProcess } from '../testbed/agent-process.js';
import { openOutput } from './output.js';
import type { Register } from './register.js';
import { stopOnSignals } from './signals.js';
import { terminalSafe } from '../text/terminal-safe.js';

const DEMO_HELP = `
Needs root, iproute2 and nftables (scripts/setup.sh installs them). Everything
it creates lives in three network namespaces, imdsdemo<pid>-host, -imds and
-ctr, removed at the end, also on Ctrl-C. No traffic leaves them.`;

export async function runDemo(flags: { format: 'table' | 'json' }): Promise<ExitCodeValue> {
  // The testbed (2k lines of namespaces and mock IMDS) is loaded by this command alone.
  const [{ createTestbed }, { AgentProcess }, { runDemoScenario }, { scaledMs }] = await Promise.all([
    import('../testbed/testbed.js'), import('../testbed/agent-process.js'), import('../testbed/demo-scenario.js'), import('../testbed/time-scale.js'),
  ]);
  const agentWaitMs = scaledMs(15_000);
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
      await running.waitForRequests(expected, agentWaitMs, (e) => !e.own);
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

export const demo: Register = (program, setResult) => {
  program
    .command('demo')
    .description('build a throw-away testbed with a mock IMDS, run real clients, capture them, tear down')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addHelpText('after', DEMO_HELP)
    .action((flags: { format: 'table' | 'json' }) => setResult(runDemo(flags)));
};
