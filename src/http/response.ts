// http/: server bytes → HttpResponse (status only; bodies, tokens and credentials are skipped unread).

import { DEFAULT_HTTP_LIMITS, framingFromHeaders, HttpMessageStream, type HttpLimits } from './message-stream.js';

export interface HttpResponse {
  status: number;
}

/**
 * Incremental parser of a server's byte stream. It must know the method of the
 * request each response answers (a HEAD response has no body), so the caller
 * tells it through `nextRequestMethod` in request order.
 */
export class ResponseParser {
  private readonly stream: HttpMessageStream;
  private pending: HttpResponse[] = [];
  private lastError: string | null = null;

  constructor(nextRequestMethod: () => string | undefined, limits: HttpLimits = DEFAULT_HTTP_LIMITS) {
    this.stream = new HttpMessageStream(limits, (head) => {
      const m = /^HTTP\/1\.[01][ \t]+(\d{3})(?:[ \t].*)?$/.exec(head.startLine.trim());
      if (!m) return 'bad_status_line';
      const status = Number(m[1]);
      // 1xx are interim: the final response to the same request follows (RFC 9110 §15.2).
      if (status < 200) return { kind: 'none' };
      const method = nextRequestMethod();
      this.pending.push({ status });
      if (method === 'HEAD' || status === 204 || status === 304) return { kind: 'none' };
      return framingFromHeaders(head, { kind: 'until-close' });
    });
  }

  push(bytes: Uint8Array): { responses: HttpResponse[]; error: string | null } {
    const result = this.stream.push(bytes);
    const responses = this.pending;
    this.pending = [];
    const error = result.error !== this.lastError ? result.error : null;
    this.lastError = result.error;
    return { responses, error };
  }
}
