// testbed/: a bounded IMDS load for the benchmark — new connections or keep-alive requests at a fixed rate.
// `node load-generator.js <new-connections|keep-alive> <rate/s> <seconds> [sockets]`; prints one JSON summary line.

import { Agent, request } from 'node:http';
import { IMDS_IPV4, IMDS_PORT } from '../imds-endpoint.js';

const [mode = 'new-connections', rateText = '100', secondsText = '10', socketsText = '10'] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const total = Math.round(rate * seconds);
const agent = mode === 'keep-alive' ? new Agent({ keepAlive: true, maxSockets: Number(socketsText) }) : undefined;

let sent = 0;
let ok = 0;
let failed = 0;
const started = Date.now();

function one(): void {
  sent += 1;
  const req = request(
    { host: IMDS_IPV4, port: IMDS_PORT, path: '/latest/meta-data/instance-id', agent: agent ?? false, timeout: 5000 },
    (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) ok += 1;
        else failed += 1;
        finish();
      });
    },
  );
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    failed += 1;
    finish();
  });
  req.end();
}

function finish(): void {
  if (ok + failed < total) return;
  agent?.destroy();
  process.stdout.write(`${JSON.stringify({ mode, rate, seconds, sent, ok, failed, elapsed_ms: Date.now() - started })}\n`);
}

// Paced by the clock, not by timer counts: a late tick sends what is due, so the rate holds.
const timer = setInterval(() => {
  const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
  while (sent < due) one();
  if (sent >= total) clearInterval(timer);
}, 5);
