// testbed/: a client that carries its IMDS token header on its own command line, as scripts do.
// `node token-client.js "<header line>" <path> [delayMs]`: waits, then one GET with that header.

import { request } from 'node:http';
import { IMDS_IPV4, IMDS_PORT } from '../imds-endpoint.js';

const [header = '', path = '/latest/meta-data/instance-id', delay = '200'] = process.argv.slice(2);
const colon = header.indexOf(':');
setTimeout(() => {
  const req = request(
    { host: IMDS_IPV4, port: IMDS_PORT, path, method: 'GET', headers: colon > 0 ? { [header.slice(0, colon)]: header.slice(colon + 1).trim() } : {} },
    (res) => {
      res.resume();
      res.on('end', () => process.stdout.write(String(res.statusCode)));
    },
  );
  req.on('error', () => process.exit(1));
  req.end();
}, Number(delay));
