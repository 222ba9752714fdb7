// testbed/: the demo workload — a realistic mix of IMDS clients on the host and in a container.

import { curlV1, IMDS_V4, IMDS_V6, runClient, sdkCredentials, type ClientRun } from './clients.js';
import type { Testbed } from './testbed.js';

/** One client run of the scenario and how many IMDS requests it makes. */
export interface ScenarioStep {
  label: string;
  run: ClientRun;
  requests: number;
}

const V2_SCRIPT =
  `T=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" ${IMDS_V4}/latest/api/token); ` +
  `curl -s -o /dev/null -H "X-aws-ec2-metadata-token: $T" ${IMDS_V4}/latest/meta-data/ami-id`;

/**
 * Runs, one after the other: curl IMDSv1 (host), a shell script doing IMDSv2
 * with curl (host), the AWS SDK credential provider (host), curl IMDSv1 over
 * IPv6 (host), curl IMDSv1 (container) and the AWS SDK in the container, whose
 * token PUT answer dies at the hop limit of 1 so it falls back to IMDSv1.
 */
export async function runDemoScenario(testbed: Testbed, onStep: (step: ScenarioStep) => void = () => {}): Promise<ScenarioStep[]> {
  const steps: ScenarioStep[] = [];
  const add = (label: string, run: ClientRun, requests: number): void => {
    const step = { label, run, requests };
    steps.push(step);
    onStep(step);
  };
  add('curl IMDSv1 (host)', await curlV1(testbed, 'host'), 1);
  add('shell script with curl, IMDSv2 (host)', await runClient(testbed, 'host', ['sh', '-c', V2_SCRIPT]), 2);
  add('AWS SDK for JavaScript credential provider (host)', await sdkCredentials(testbed, 'host'), 3);
  add('curl IMDSv1 over IPv6 (host)', await curlV1(testbed, 'host', '/latest/meta-data/local-ipv4', IMDS_V6), 1);
  add('curl IMDSv1 (container)', await curlV1(testbed, 'ctr', '/latest/meta-data/placement/region'), 1);
  add('AWS SDK for JavaScript in the container (hop limit 1)', await sdkCredentials(testbed, 'ctr'), 3);
  return steps;
}
