// testbed/: a real AWS SDK for JavaScript client (the IMDS credential provider) run as its own process.
// Prints one JSON line: whether credentials were obtained. Never prints a credential.

import { fromInstanceMetadata } from '@smithy/credential-provider-imds';

/** Entry when run as a child: `node sdk-client.js [timeoutMs]`. */
async function main(): Promise<void> {
  const timeout = Number(process.argv[2] ?? 1000);
  try {
    const credentials = await fromInstanceMetadata({ timeout, maxRetries: 0 })();
    const ok = typeof credentials.accessKeyId === 'string' && credentials.accessKeyId.length > 0;
    process.stdout.write(`${JSON.stringify({ ok, expiration: credentials.expiration?.toISOString() ?? null })}\n`);
    process.exitCode = ok ? 0 : 1;
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (error as Error).name })}\n`);
    process.exitCode = 1;
  }
}

void main();
