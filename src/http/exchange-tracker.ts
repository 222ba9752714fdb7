// http/: StreamEvents → HttpExchanges (each request paired with its response, in order, per connection).

import type { Connection, StreamEvent } from '../tcp/connection-table.js';
import { RequestParser, type HttpRequest } from './request.js';
import { ResponseParser } from './response.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './message-stream.js';

/** One request and, when it came, its answer. */
export interface HttpExchange {
  conn: Connection;
  /** 1 for the first request on the connection, 2 for the next (keep-alive) … */
  index: number;
  request: HttpRequest;
  requestUs: number;
  /** HTTP status, or null when no answer was captured before the connection ended. */
  status: number | null;
  responseUs: number | null;
  /** TTL / hop limit of the packet that carried the status line, as first captured. */
  responseTtl: number | null;
}

export interface TrackerOutput {
  exchanges: HttpExchange[];
  /** Reasons for streams given up on (not HTTP, over limits, bytes lost). */
  drops: string[];
}

interface ConnState {
  requests: RequestParser;
  responses: ResponseParser;
  /** Requests still waiting for their response, oldest first. */
  waiting: HttpExchange[];
  /** Methods of requests whose response the parser has not framed yet. */
  methods: string[];
  count: number;
  /** The client's stream can no longer be followed: no more requests from it. */
  requestsLost: boolean;
  /** The server's stream can no longer be followed: requests are reported unanswered at once. */
  responsesLost: boolean;
  /** Joined mid-stream and no request seen yet: an answer now is to a request made before the capture began. */
  beforeCapture: boolean;
}

/** Pairs requests with responses on every connection. Pure: time comes from the events. */
export class ExchangeTracker {
  private readonly conns = new Map<number, ConnState>();

  /**
   * @param maxWaitingPerConnection requests held for their answers per connection;
   *   past it the oldest is reported unanswered, so a client that never gets
   *   answers cannot grow memory (nor delay its lines) without bound.
   */
  constructor(
    private readonly limits: HttpLimits = DEFAULT_HTTP_LIMITS,
    private readonly maxWaitingPerConnection = 64,
  ) {}

  handle(event: StreamEvent): TrackerOutput {
    const out: TrackerOutput = { exchanges: [], drops: [] };
    switch (event.type) {
      case 'open':
        this.state(event.conn).beforeCapture = event.midStream;
        break;
      case 'data':
        this.data(event.conn, event.direction, event.bytes, event.timestampUs, event.ttl, out);
        break;
      case 'gap': {
        const state = this.state(event.conn);
        out.drops.push(`${event.direction}_bytes_lost`);
        if (event.direction === 'request') state.requestsLost = true;
        else this.loseResponses(state, out);
        break;
      }
      case 'close': {
        const state = this.conns.get(event.conn.id);
        if (state) out.exchanges.push(...state.waiting);
        // A head cut off by the close (or by the snap length, zero-filled) is a request that was made and is lost.
        if (state && !state.requestsLost && state.requests.inHead) out.drops.push('request_incomplete_head');
        this.conns.delete(event.conn.id);
        break;
      }
    }
    return out;
  }

  private state(conn: Connection): ConnState {
    let state = this.conns.get(conn.id);
    if (!state) {
      const methods: string[] = [];
      state = {
        requests: new RequestParser(this.limits),
        responses: new ResponseParser(() => methods.shift(), this.limits),
        waiting: [],
        methods,
        count: 0,
        requestsLost: false,
        responsesLost: false,
        beforeCapture: false,
      };
      this.conns.set(conn.id, state);
    }
    return state;
  }

  /** From now on no answer can be paired: report what waits, and later requests at once. */
  private loseResponses(state: ConnState, out: TrackerOutput): void {
    state.responsesLost = true;
    out.exchanges.push(...state.waiting);
    state.waiting = [];
  }

  private data(
    conn: Connection,
    direction: 'request' | 'response',
    bytes: Uint8Array,
    timestampUs: number,
    ttl: number,
    out: TrackerOutput,
  ): void {
    const state = this.state(conn);
    if (direction === 'request') {
      if (state.requestsLost) return;
      const { requests, error } = state.requests.push(bytes);
      if (requests.length > 0) state.beforeCapture = false;
      for (const request of requests) {
        state.count += 1;
        const exchange: HttpExchange = { conn, index: state.count, request, requestUs: timestampUs, status: null, responseUs: null, responseTtl: null };
        if (state.responsesLost) {
          out.exchanges.push(exchange);
          continue;
        }
        state.methods.push(request.method);
        state.waiting.push(exchange);
        if (state.waiting.length > this.maxWaitingPerConnection) {
          out.exchanges.push(state.waiting.shift() as HttpExchange);
          out.drops.push('unanswered_overflow');
          this.loseResponses(state, out); // the pairing is lost with it
        }
      }
      if (error) {
        out.drops.push(`request_${error}`);
        state.requestsLost = true;
      }
      return;
    }
    if (state.responsesLost) return;
    const { responses, error } = state.responses.push(bytes);
    for (const response of responses) {
      const exchange = state.waiting.shift();
      if (!exchange) {
        // On a connection joined mid-stream, the first answers may be to requests made before the capture: not lost.
        out.drops.push(state.beforeCapture ? 'response_to_request_before_capture' : 'response_without_request');
        continue;
      }
      exchange.status = response.status;
      exchange.responseUs = timestampUs;
      exchange.responseTtl = ttl;
      out.exchanges.push(exchange);
    }
    if (error) {
      out.drops.push(`response_${error}`);
      this.loseResponses(state, out);
    }
  }
}
