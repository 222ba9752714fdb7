// Script entry of the mock IMDS child: `node dist/src/testbed/mock-imds-main.js --control <socket>`.

import { runMockImdsProcess } from './mock-imds-process.js';

runMockImdsProcess(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`mock-imds: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
