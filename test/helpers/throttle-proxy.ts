// Test helper: an HTTP proxy on 127.0.0.1 in front of moto_server that answers chosen PutMetricData calls with AWS errors (moto never throttles).

import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** An AWS JSON 1.0 error answer (query-compatible: the `x-amzn-query-error` header carries the query error code). */
export interface ErrorAnswer {
  status: number;
  type: string;
  message?: string;
}

export const THROTTLING: ErrorAnswer = { status: 400, type: 'Throttling', message: 'Rate exceeded' };
export const SERVICE_UNAVAILABLE: ErrorAnswer = { status: 503, type: 'ServiceUnavailable', message: 'Service unavailable' };
export const INTERNAL_FAILURE: ErrorAnswer = { status: 500, type: 'InternalFailure', message: 'Internal failure' };
export const ACCESS_DENIED: ErrorAnswer = { status: 403, type: 'AccessDenied', message: 'User is not authorized to perform: cloudwatch:PutMetricData' };
export const INVALID_PARAMETER: ErrorAnswer = { status: 400, type: 'InvalidParameterValue', message: 'The value for parameter MetricData.member.1.Timestamp is invalid.' };

const PUT_METRIC_DATA = 'GraniteServiceVersion20100801.PutMetricData';

/** Forwards everything to moto except the PutMetricData calls it was told to fail. */
export class ThrottleProxy {
  private readonly queue: ErrorAnswer[] = [];
  private down = false;
  private readonly sockets = new Set<Socket>();
  /** PutMetricData calls seen, answered with an error, and forwarded to moto. */
  readonly stats = { putCalls: 0, failed: 0, forwarded: 0 };

  private constructor(private readonly server: Server, readonly port: number) {}

  /** Listens on a free 127.0.0.1 port and forwards to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number): Promise<ThrottleProxy> {
    let proxy: ThrottleProxy | undefined;
    const server = createServer((req, res) => proxy?.handle(req, res, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
    proxy = new ThrottleProxy(server, address.port);
    server.on('connection', (s) => {
      proxy?.sockets.add(s);
      s.once('close', () => proxy?.sockets.delete(s));
    });
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next PutMetricData calls get these answers, in order. */
  failNext(...answers: ErrorAnswer[]): void {
    this.queue.push(...answers);
  }

  /** While down, every PutMetricData connection is reset (a network error) and nothing reaches moto. */
  setDown(down: boolean): void {
    this.down = down;
  }

  private handle(req: IncomingMessage, res: ServerResponse, targetPort: number): void {
    const isPut = req.headers['x-amz-target'] === PUT_METRIC_DATA;
    if (isPut) this.stats.putCalls += 1;
    if (isPut && this.down) {
      req.socket.destroy();
      return;
    }
    const answer = isPut ? this.queue.shift() : undefined;
    if (answer !== undefined) {
      this.stats.failed += 1;
      req.resume();
      req.once('end', () => {
        res.writeHead(answer.status, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-query-error': `${answer.type};${answer.status >= 500 ? 'Receiver' : 'Sender'}`,
          'x-amzn-requestid': `proxy-${this.stats.failed}`,
        });
        res.end(JSON.stringify({ __type: answer.type, message: answer.message ?? answer.type }));
      });
      return;
    }
    if (isPut) this.stats.forwarded += 1;
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.once('error', () => res.destroy());
    req.pipe(upstream);
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
