// Test helper (pure): the EC2 fault proxy's fault settings, what it does with each call, and its AWS Query XML.

/** An EC2 (AWS Query protocol) error answer. */
export interface Ec2ErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/** Answer the next `count` calls of `action` (or all of them) with an error instead of forwarding them. */
export interface Ec2FailRule extends Ec2ErrorAnswer {
  action: string;
  count: number | 'all';
  /** Forward the call first, then answer the error: EC2 acted, its answer was lost. */
  afterForward?: boolean;
}

/** What the proxy does besides forwarding; every field is optional and JSON-serialisable. */
export interface Ec2Faults {
  /** Error rules; for each call the first rule for its Action with calls left answers it (also a DryRun call). */
  fail?: Ec2FailRule[];
  /** DescribeInstances answers (HTTP 200) whose MetadataOptions State is rewritten from applied to pending: the next N, or all. */
  pendingDescribes?: number | 'all';
  /** true: ModifyInstanceMetadataOptions answers say State pending, as real EC2's do (moto 5.2.1 says applied). */
  pendingModifyAnswers?: boolean;
}

/** EC2 throttling: real EC2 answers HTTP 503 RequestLimitExceeded; the SDK retries it with backoff. */
export const EC2_THROTTLED: Ec2ErrorAnswer = { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' };

/** Missing IAM permission, as EC2 words it (the encoded part is opaque; `aws sts decode-authorization-message` reads real ones). */
export const EC2_UNAUTHORIZED: Ec2ErrorAnswer = {
  status: 403,
  code: 'UnauthorizedOperation',
  message: 'You are not authorized to perform this operation. Encoded authorization failure message: ZmF1bHQtcHJveHk6IGltZHMtc25pZmYgdGVzdA',
};

/** An EC2 server-side failure. */
export const EC2_INTERNAL_ERROR: Ec2ErrorAnswer = { status: 500, code: 'InternalError', message: 'An internal error has occurred' };

/** Real EC2's answer to a permitted DryRun call. */
export const EC2_DRY_RUN_OK: Ec2ErrorAnswer = { status: 412, code: 'DryRunOperation', message: 'Request would have succeeded, but DryRun flag is set.' };

/** A rule failing the next `count` calls of `action` with `answer`. */
export function failNext(action: string, count: number | 'all', answer: Ec2ErrorAnswer): Ec2FailRule {
  return { action, count, ...answer };
}

/**
 * How the proxy answered one call: 'forwarded' unchanged; 'pending' forwarded with the
 * MetadataOptions State rewritten; 'dry-run' DryRunOperation without forwarding; 'fault' a
 * configured error without forwarding; 'lost-answer' forwarded, then a configured error; 'upstream-error' 502 because the target failed.
 */
export type Ec2ProxyOutcome = 'forwarded' | 'pending' | 'dry-run' | 'fault' | 'lost-answer' | 'upstream-error';

/** One call the proxy answered, as printed on stdout (`{"request": …}`). */
export interface Ec2ProxyRequest {
  /** 1-based order of arrival. */
  seq: number;
  timeMs: number;
  /** The Query Action, '' when the call had none. */
  action: string;
  dryRun: boolean;
  /** Every Query parameter of the call (form body and query string); credentials travel in headers, never here. */
  params: Record<string, string>;
  userAgent: string | null;
  outcome: Ec2ProxyOutcome;
  /** HTTP status the client got. */
  status: number;
  /** Error code the client got (from the proxy or the target), null for a success. */
  code: string | null;
}

/** stdout line once listening. */
export interface Ec2ProxyReadyLine {
  ready: true;
  pid: number;
  address: string;
  port: number;
}

/**
 * A command on stdin, one JSON object per line; each is acknowledged on stdout with
 * `{"ack": id, "faults": <settings now in force>}` (or `{"ack": id, "error": "…"}`),
 * after every request line of calls answered before it.
 */
export interface Ec2ProxyCommand {
  id: number;
  /** Replaces the fault settings; without it the command only acknowledges (a barrier). */
  setFaults?: unknown;
}

/** What the proxy does with a call before it answers. */
export type Ec2Decision =
  | { kind: 'answer'; outcome: 'fault' | 'dry-run'; answer: Ec2ErrorAnswer }
  /** Forward; `pending`: show the answer's metadata state as pending (decided when the call came in, not when it was answered). */
  | { kind: 'forward'; pending: boolean }
  /** Forward, then answer this error instead of the target's answer. */
  | { kind: 'forward-then-answer'; answer: Ec2ErrorAnswer };

function fail(field: string, expected: string): never {
  throw new Error(`EC2 fault setting ${field} must be ${expected}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number | 'all' {
  return value === 'all' || (Number.isInteger(value) && (value as number) >= 0);
}

/** Checks fault settings from JSON (argv or the control channel); throws Error naming the first bad field. */
export function parseEc2Faults(value: unknown): Ec2Faults {
  if (!isRecord(value)) fail('faults', 'a JSON object');
  const faults: Ec2Faults = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === 'fail') {
      if (!Array.isArray(field)) fail('fail', 'an array');
      faults.fail = field.map((rule: unknown, i) => {
        if (!isRecord(rule)) fail(`fail[${i}]`, 'an object');
        const { action, count, status, code, message, afterForward } = rule;
        if (typeof action !== 'string' || action === '') fail(`fail[${i}].action`, 'a non-empty string');
        if (!isCount(count)) fail(`fail[${i}].count`, "a count or 'all'");
        if (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 599) fail(`fail[${i}].status`, 'an HTTP error status');
        if (typeof code !== 'string' || code === '') fail(`fail[${i}].code`, 'a non-empty string');
        if (typeof message !== 'string') fail(`fail[${i}].message`, 'a string');
        if (afterForward !== undefined && typeof afterForward !== 'boolean') fail(`fail[${i}].afterForward`, 'a boolean');
        return { action, count, status: status as number, code, message, ...(afterForward ? { afterForward } : {}) };
      });
    } else if (key === 'pendingDescribes') {
      if (!isCount(field)) fail(key, "a count or 'all'");
      faults.pendingDescribes = field;
    } else if (key === 'pendingModifyAnswers') {
      if (typeof field !== 'boolean') fail(key, 'a boolean');
      faults.pendingModifyAnswers = field;
    } else {
      throw new Error(`unknown EC2 fault setting ${key}`);
    }
  }
  return faults;
}

/** True for the Query protocol's DryRun=true (the SDK sends "true"). */
export function isDryRun(params: URLSearchParams): boolean {
  return params.get('DryRun')?.toLowerCase() === 'true';
}

/** The fault settings of one proxy and their remaining counts; decide() and rewrite() consume them. */
export class Ec2FaultPlan {
  private faults: Required<Ec2Faults>;

  constructor(faults: Ec2Faults = {}) {
    this.faults = Ec2FaultPlan.normalise(faults);
  }

  /** Replaces every setting (remaining counts included). */
  set(faults: Ec2Faults): void {
    this.faults = Ec2FaultPlan.normalise(faults);
  }

  /** The settings still in force: rules with calls left, pending rewrites left. */
  get remaining(): Ec2Faults {
    return structuredClone(this.faults);
  }

  /**
   * A configured error first (throttling and missing permissions come before EC2 looks at
   * DryRun), then DryRun on ModifyInstanceMetadataOptions, which moto 5.2.1 would carry
   * out instead of refusing; everything else is forwarded.
   */
  decide(action: string, dryRun: boolean): Ec2Decision {
    const rule = this.faults.fail.find((r) => r.action === action && r.count !== 0);
    if (rule !== undefined) {
      if (rule.count !== 'all') rule.count -= 1;
      this.faults.fail = this.faults.fail.filter((r) => r.count !== 0);
      const answer = { status: rule.status, code: rule.code, message: rule.message };
      return rule.afterForward ? { kind: 'forward-then-answer', answer } : { kind: 'answer', outcome: 'fault', answer };
    }
    if (action === 'ModifyInstanceMetadataOptions' && dryRun) return { kind: 'answer', outcome: 'dry-run', answer: EC2_DRY_RUN_OK };
    // Taken now: a setFaults that arrives while this call is at the target must not change its answer.
    let pending = false;
    if (action === 'DescribeInstances' && this.faults.pendingDescribes !== 0) {
      if (this.faults.pendingDescribes !== 'all') this.faults.pendingDescribes -= 1;
      pending = true;
    } else if (action === 'ModifyInstanceMetadataOptions' && this.faults.pendingModifyAnswers) {
      pending = true;
    }
    return { kind: 'forward', pending };
  }

  /** The answer body of a forwarded call as the client gets it; `rewritten` when it was to show as pending (decided by `decide`). */
  rewrite(action: string, status: number, body: string, pending: boolean): { body: string; rewritten: boolean } {
    if (status !== 200 || !pending) return { body, rewritten: false };
    const rewritten = rewriteMetadataState(body, action === 'DescribeInstances' ? 'metadataOptions' : 'instanceMetadataOptions');
    return { body: rewritten, rewritten: rewritten !== body };
  }

  private static normalise(faults: Ec2Faults): Required<Ec2Faults> {
    const parsed = parseEc2Faults(faults);
    return {
      fail: (parsed.fail ?? []).filter((r) => r.count !== 0),
      pendingDescribes: parsed.pendingDescribes ?? 0,
      pendingModifyAnswers: parsed.pendingModifyAnswers ?? false,
    };
  }
}

/** Every `<state>applied</state>` directly inside a `<tag>` element (metadataOptions in DescribeInstances) becomes pending. */
export function rewriteMetadataState(xml: string, tag: string): string {
  const element = new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`, 'g');
  return xml.replace(element, (options) => options.replace('<state>applied</state>', '<state>pending</state>'));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' } as Record<string, string>)[c]};`);
}

/** The error document EC2 sends (AWS Query protocol). */
export function queryErrorXml(answer: Ec2ErrorAnswer, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Response><Errors><Error><Code>${escapeXml(answer.code)}</Code><Message>${escapeXml(answer.message)}</Message></Error></Errors>` +
    `<RequestID>${escapeXml(requestId)}</RequestID></Response>`
  );
}

/** The first error code in a Query error document, or null. */
export function queryErrorCode(xml: string): string | null {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? null;
}
