// Test helper script: an HTTP proxy in front of moto's EC2 API that injects EC2 faults; `node dist/test/helpers/ec2-fault-proxy-main.js --target <url>`.

import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readBody } from '../../src/testbed/mock-imds-control-server.js';
import {
  Ec2FaultPlan,
  isDryRun,
  parseEc2Faults,
  queryErrorCode,
  queryErrorXml,
  type Ec2ErrorAnswer,
  type Ec2ProxyCommand,
  type Ec2ProxyOutcome,
  type Ec2ProxyReadyLine,
  type Ec2ProxyRequest,
} from './ec2-faults.js';


function writeLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (match === null) throw new Error(`bad --listen ${text}, expected host:port`);
  return { host: match[1] ?? match[2] ?? '', port: Number(match[3]) };
}

/** Query parameters of a call: the query string, then the form body (EC2 clients POST a form). */
function queryParams(req: IncomingMessage, body: Buffer): URLSearchParams {
  const params = new URLSearchParams(new URL(req.url ?? '/', 'http://proxy').search);
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded') || (type === '' && body.length > 0)) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.append(key, value);
  }
  return params;
}

/** Sends the call on to the target and resolves with its whole answer. */
function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** Runs the proxy: argv `--target <url>` (required), `--listen <host:port>` (default 127.0.0.1:0), `--faults <json>`. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { target: { type: 'string' }, listen: { type: 'string', default: '127.0.0.1:0' }, faults: { type: 'string', default: '{}' } },
    strict: true,
  });
  if (values.target === undefined) throw new Error('--target <url> is required');
  const target = new URL(values.target);
  const plan = new Ec2FaultPlan(parseEc2Faults(JSON.parse(values.faults)));
  const listen = parseListen(values.listen);
  let seq = 0;
  const sockets = new Set<Socket>();

  const answer = (res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void => {
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const params = queryParams(req, body);
    const action = params.get('Action') ?? '';
    const dryRun = isDryRun(params);
    const record: Omit<Ec2ProxyRequest, 'outcome' | 'status' | 'code'> = {
      seq: ++seq,
      timeMs: Date.now(),
      action,
      dryRun,
      params: Object.fromEntries(params),
      userAgent: req.headers['user-agent'] ?? null,
    };
    // The request line goes out before the answer, so a client that has its answer can rely on the line existing.
    const finish = (outcome: Ec2ProxyOutcome, status: number, code: string | null): void => writeLine({ request: { ...record, outcome, status, code } });
    const decision = plan.decide(action, dryRun);
    if (decision.kind === 'answer') {
      const error: Ec2ErrorAnswer = decision.answer;
      finish(decision.outcome, error.status, error.code);
      answer(res, error.status, { 'content-type': 'text/xml;charset=UTF-8' }, queryErrorXml(error, `fault-proxy-${record.seq}`));
      return;
    }
    let upstream;
    try {
      upstream = await forward(target, req, body);
    } catch (error) {
      finish('upstream-error', 502, null);
      answer(res, 502, { 'content-type': 'text/plain' }, `fault proxy: target ${target.href} failed: ${(error as Error).message}\n`);
      return;
    }
    if (decision.kind === 'forward-then-answer') {
      finish('lost-answer', decision.answer.status, decision.answer.code);
      answer(res, decision.answer.status, { 'content-type': 'text/xml;charset=UTF-8' }, queryErrorXml(decision.answer, `fault-proxy-${record.seq}`));
      return;
    }
    const text = upstream.body.toString('utf8');
    const { body: out, rewritten } = plan.rewrite(action, upstream.status, text, decision.pending);
    const headers: OutgoingHttpHeaders = { ...upstream.headers };
    for (const hop of ['content-length', 'transfer-encoding', 'connection', 'keep-alive']) delete headers[hop];
    finish(rewritten ? 'pending' : 'forwarded', upstream.status, upstream.status >= 400 ? queryErrorCode(text) : null);
    answer(res, upstream.status, headers, rewritten ? out : upstream.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, { 'content-type': 'text/plain' }, `fault proxy: ${String(error)}\n`);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port }, () => resolve());
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const s of sockets) s.destroy();
    server.close();
    process.stdin.destroy();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // stdin closes when the test process dies: then this proxy goes too.
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    let id: unknown = null;
    try {
      const command = JSON.parse(line) as Ec2ProxyCommand;
      id = command.id;
      if (command.setFaults !== undefined) plan.set(parseEc2Faults(command.setFaults));
      writeLine({ ack: id, faults: plan.remaining });
    } catch (error) {
      writeLine({ ack: id, error: (error as Error).message });
    }
  });
  commands.on('close', stop);

  const address = server.address() as AddressInfo;
  const ready: Ec2ProxyReadyLine = { ready: true, pid: process.pid, address: address.address, port: address.port };
  writeLine(ready);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`ec2-fault-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
