// Test helper script: the mock IMDS child with the EC2 follower plugged in; `node dist/test/helpers/mock-imds-ec2-main.js --control <socket>`.

import { runMockImdsProcess } from '../../src/testbed/mock-imds-process.js';
import { MockImdsEc2Follower } from './mock-imds-ec2-follower.js';

runMockImdsProcess(process.argv.slice(2), [(host) => new MockImdsEc2Follower(host)]).catch((error: unknown) => {
  process.stderr.write(`mock-imds: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
