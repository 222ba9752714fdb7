#!/usr/bin/env node
// Records the pcaps in fixtures/pcap/: real clients against the mock IMDS in a throw-away testbed,
// captured with tcpdump -i any in the testbed's host namespace. Run as root after `npm run build`:
//   node scripts/record-fixtures.mjs                  (all of them)
//   node scripts/record-fixtures.mjs split-head.pcap  (only the captures named)
// then regenerate the golden files: UPDATE_GOLDEN=1 npx vitest run test/unit/fixtures

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createTestbed } from '../dist/src/testbed/testbed.js';
import { curlToken, curlV1, curlWithToken, IMDS_V6, runClient, sdkCredentials, splitRequests } from '../dist/src/testbed/clients.js';

const OUT = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const CANARY = {
  token: 'AQAEAFIXTURECANARYTOKEN0000000000000000000000000000000==',
  credentials: { accessKeyId: 'ASIAFIXTURECANARY000', secretAccessKey: 'fixtureCanarySecretKey/0000000000000000000', token: 'IQoJfixtureCanarySessionToken', expiration: '2030-01-01T00:00:00Z' },
};

/** tcpdump in the host namespace; resolves once it is listening. */
async function startTcpdump(tb, file) {
  const child = tb.spawn('host', ['tcpdump', '-i', 'any', '--immediate-mode', '-U', '-w', `${OUT}${file}`, 'host 169.254.169.254 or host fd00:ec2::254'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes('listening on')) resolve();
    });
    child.on('exit', () => reject(new Error(`tcpdump exited: ${err}`)));
  });
  return async () => {
    child.kill('SIGINT');
    await once(child, 'exit');
  };
}

const CAPTURES = ['curl.pcap', 'wget.pcap', 'aws-sdk-js.pcap', 'container-hop-limit.pcap', 'ipv6.pcap', 'pipelined-keepalive.pcap', 'split-head.pcap', 'split-ipv6.pcap', 'foreign-probes.pcap', 'required-mode.pcap'];
/** Captures named on the command line; none: all. Re-recording a capture changes every byte of it (times, ports). */
const ONLY = new Set(process.argv.slice(2));
const unknown = [...ONLY].filter((file) => !CAPTURES.includes(file));
if (unknown.length > 0) throw new Error(`no such capture: ${unknown.join(', ')} (known: ${CAPTURES.join(', ')})`);

async function record(tb, file, work) {
  if (ONLY.size > 0 && !ONLY.has(file)) return;
  const stop = await startTcpdump(tb, file);
  try {
    await work();
  } finally {
    await stop();
  }
  console.log(`recorded ${file}`);
}

const PIPELINE = `
const net = require('node:net');
const s = net.connect(80, process.argv[1] || '169.254.169.254', () => {
  s.write('GET /latest/meta-data/instance-id HTTP/1.1\\r\\nHost: 169.254.169.254\\r\\n\\r\\n' +
          'GET /latest/meta-data/ami-id HTTP/1.1\\r\\nHost: 169.254.169.254\\r\\n\\r\\n' +
          'HEAD /latest/meta-data/ HTTP/1.1\\r\\nHost: 169.254.169.254\\r\\nConnection: close\\r\\n\\r\\n');
});
s.resume();
s.on('end', () => s.destroy());`;

/**
 * Requests written in pieces, one TCP segment each (split-client.js): an IMDSv1 GET whose head
 * is cut inside the Host value; a token PUT cut between CR and LF, then a GET on the same connection
 * cut inside the token value; a token PUT with a body cut inside it.
 */
async function splitWorkload(tb, host) {
  const hostCut = { after: host.includes(':') ? 'Host: [fd00:' : 'Host: 169.' };
  const runs = [
    await splitRequests(tb, 'host', { host, requests: [{ method: 'GET', path: '/latest/meta-data/instance-id', splitAt: [hostCut] }] }),
    await splitRequests(tb, 'host', {
      host,
      requests: [
        { method: 'PUT', path: '/latest/api/token', tokenTtlSeconds: 21600, splitAt: [{ after: '21600\r' }] },
        { method: 'GET', path: '/latest/meta-data/iam/security-credentials/imds-sniff-test-role', withToken: true, splitAt: [{ after: 'X-aws-ec2-metadata-token: ', plus: 16 }] },
      ],
    }),
    await splitRequests(tb, 'host', {
      host,
      requests: [{ method: 'PUT', path: '/latest/api/token', tokenTtlSeconds: 21600, body: 'split-body-0123456789', splitAt: [{ after: '\r\n\r\n', plus: 5 }] }],
    }),
  ];
  for (const run of runs) if (run.code !== 0 || run.statuses.some((s) => s !== 200)) throw new Error(`split client failed: ${run.stdout}`);
}

/** Other clouds' metadata probes: gcp-metadata's real isAvailable(), curl with each cloud's path and header; then AWS paths that stay IMDSv1. */
async function foreignProbes(tb) {
  const gcp = await runClient(tb, 'host', [process.execPath, fileURLToPath(new URL('../test/helpers/gcp-metadata-probe.mjs', import.meta.url))]);
  if (gcp.stdout.trim() !== '{"available":false}') throw new Error(`gcp-metadata probe: ${gcp.stdout}`);
  const curl = (path, ...headers) => runClient(tb, 'host', ['curl', '-sS', '--path-as-is', '--max-time', '3', '-o', '/dev/null', ...headers.flatMap((h) => ['-H', h]), `http://169.254.169.254${path}`]);
  await curl('/metadata/instance?api-version=2021-02-01', 'Metadata: true'); // Azure IMDS
  await curl('/opc/v2/instance/', 'Authorization: Bearer Oracle'); // OCI
  await curl('/metadata/v1.json'); // DigitalOcean
  await curl('/openstack/latest/meta_data.json'); // OpenStack
  await curl('/hetzner/v1/metadata'); // Hetzner
  await curl('/', 'Metadata-Flavor: Google'); // an AWS path with GCE's header: IMDSv1
  await curl('/opc/../latest/meta-data/instance-id'); // a dot segment: IMDSv1
}

const tb = await createTestbed({ prefix: 'imdsrec', block: 50, mock: { fixedToken: CANARY.token, credentials: CANARY.credentials } });
try {
  await record(tb, 'curl.pcap', async () => {
    await curlV1(tb, 'host');
    const t = await curlToken(tb, 'host');
    await curlWithToken(tb, 'host', t.stdout, '/latest/meta-data/iam/security-credentials/imds-sniff-test-role');
  });
  await record(tb, 'wget.pcap', async () => {
    await runClient(tb, 'host', ['wget', '-q', '-O', '/dev/null', 'http://169.254.169.254/latest/meta-data/ami-id']);
    await runClient(tb, 'host', ['wget', '-q', '-O', '/dev/null', '--header=X-aws-ec2-metadata-token: ' + CANARY.token, 'http://169.254.169.254/latest/meta-data/hostname']);
  });
  await record(tb, 'aws-sdk-js.pcap', async () => {
    await sdkCredentials(tb, 'host');
  });
  await record(tb, 'container-hop-limit.pcap', async () => {
    await curlV1(tb, 'ctr');
    await sdkCredentials(tb, 'ctr'); // token answer dies at the hop: the SDK falls back to IMDSv1
  });
  await record(tb, 'ipv6.pcap', async () => {
    await curlV1(tb, 'host', '/latest/meta-data/instance-id', IMDS_V6);
    const t = await curlToken(tb, 'host', IMDS_V6);
    await curlWithToken(tb, 'host', t.stdout, '/latest/meta-data/instance-id', IMDS_V6);
  });
  await record(tb, 'pipelined-keepalive.pcap', async () => {
    await runClient(tb, 'host', [process.execPath, '-e', PIPELINE]);
  });
  await record(tb, 'split-head.pcap', () => splitWorkload(tb, '169.254.169.254'));
  await record(tb, 'split-ipv6.pcap', () => splitWorkload(tb, 'fd00:ec2::254'));
  await record(tb, 'foreign-probes.pcap', () => foreignProbes(tb));
  await tb.mock.setOptions({ httpTokens: 'required' });
  await record(tb, 'required-mode.pcap', async () => {
    await curlV1(tb, 'host');
    await sdkCredentials(tb, 'host');
  });
} finally {
  await tb.destroy();
}
