// Enforces HttpPutResponseHopLimit in the IMDS namespace: nft rewrites the TTL of token-PUT answers.

import { TestbedError } from '../errors.js';
import { HOP_LIMIT_RANGE } from './mock-imds-options.js';
import { firstLine, runCommand } from './run-command.js';

/** Name of the nft table the mock owns in its namespace. */
export const HOP_LIMIT_TABLE = 'imds_mock';

/** "PUT " as a 32-bit big-endian number, as nft compares raw payload. */
const PUT_PREFIX = '0x50555420';

/**
 * The ruleset for one hop limit. Real IMDS sends the token PUT answer with IP TTL (IPv6
 * hop limit) = HttpPutResponseHopLimit, so behind one NAT hop a limit of 1 never reaches
 * a container. Node cannot set IP_TTL on a server socket, so conntrack marks a connection
 * whose payload starts with "PUT " (0x50555420) and the output hook rewrites its TTL.
 * Delete-then-create inside one `nft -f` transaction replaces the table atomically.
 */
export function renderHopLimitRuleset(hopLimit: number, port = 80): string {
  if (!Number.isInteger(hopLimit) || hopLimit < HOP_LIMIT_RANGE.min || hopLimit > HOP_LIMIT_RANGE.max) {
    throw new TestbedError(`hop limit must be an integer ${HOP_LIMIT_RANGE.min}..${HOP_LIMIT_RANGE.max}, got ${hopLimit}`);
  }
  return [
    `add table inet ${HOP_LIMIT_TABLE}`,
    `delete table inet ${HOP_LIMIT_TABLE}`,
    `table inet ${HOP_LIMIT_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority 0;',
    ...putMatchRules(port),
    '  }',
    '  chain output {',
    '    type filter hook output priority 0;',
    `    ct mark 1 tcp sport ${port} ip ttl set ${hopLimit}`,
    `    ct mark 1 tcp sport ${port} ip6 hoplimit set ${hopLimit}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * One rule per TCP data offset (5..15 words) matching "PUT " at the start of the payload.
 * The inner-header base `@ih` would say this in one rule, but kernels before 5.16 refuse it
 * ("Operation not supported", e.g. Debian 11's 5.10); `@th` at bit doff*32 works everywhere.
 */
export function putMatchRules(port: number): string[] {
  const rules: string[] = [];
  for (let doff = 5; doff <= 15; doff++) {
    rules.push(`    tcp dport ${port} tcp doff ${doff} @th,${doff * 32},32 ${PUT_PREFIX} ct mark set 1`);
  }
  return rules;
}

/**
 * Loads the ruleset with `nft -f -` in the caller's network namespace (the mock process
 * runs inside the IMDS namespace). Throws TestbedError when nft fails.
 */
export async function applyHopLimitRules(hopLimit: number, port = 80): Promise<void> {
  const ruleset = renderHopLimitRuleset(hopLimit, port);
  let result;
  try {
    result = await runCommand(['nft', '-f', '-'], { input: ruleset, timeoutMs: 10_000 });
  } catch (cause) {
    throw new TestbedError('nft not found: cannot enforce the IMDS hop limit', { cause });
  }
  if (result.code !== 0) throw new TestbedError(`nft refused the hop-limit rules: ${firstLine(result)}`);
}
