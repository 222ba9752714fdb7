// Error classes with stable codes and the one exit-code table (README "Exit codes").

/** Exit codes that scripts can gate on. Keep in sync with the README. */
export const ExitCode = {
  /** Capture ran and it is safe to require IMDSv2: no IMDSv1 request from the workload. */
  OK: 0,
  /** A bug or an unexpected failure inside imds-sniff. */
  INTERNAL: 1,
  /** Bad flag, bad value or bad config file. */
  USAGE: 2,
  /** Capture ran and it is not safe to require IMDSv2: IMDSv1 seen, or token answers lost at the hop limit. */
  IMDSV1_SEEN: 3,
  /** Could not capture: privileges, libpcap, interface, unreadable pcap file. */
  CANNOT_CAPTURE: 4,
  /** An AWS API call failed. */
  AWS_API: 5,
  /** A safety gate refused the change (or the instance changed since the change to roll back). */
  GATE_REFUSED: 6,
  /** The change was applied in EC2 but IMDS on this host does not answer as it should. */
  VERIFY_FAILED: 7,
  /** Stopped by Ctrl-C before it could finish (demo). */
  INTERRUPTED: 130,
  /** The reader of the output went away (`imds-sniff … | head`): no verdict was delivered (128 + SIGPIPE, as a shell reports a tool killed by it). */
  OUTPUT_CLOSED: 141,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a message for the operator, a stable code, an exit code and an optional hint. */
export class ImdsSniffError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.INTERNAL;
    this.hint = options.hint;
  }
}

/** A flag, value or config field is wrong. */
export class UsageError extends ImdsSniffError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('ERR_USAGE', message, { ...options, exitCode: ExitCode.USAGE });
  }
}

/** Live capture cannot start: privileges, libpcap, unknown interface. */
export class CaptureError extends ImdsSniffError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, exitCode: ExitCode.CANNOT_CAPTURE });
  }
}

/** A capture file cannot be read. */
export class PcapFileError extends ImdsSniffError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('ERR_PCAP_FILE', message, { ...options, exitCode: ExitCode.CANNOT_CAPTURE });
  }
}

/** The network-namespace testbed (demo, e2e) cannot be built. */
export class TestbedError extends ImdsSniffError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('ERR_TESTBED', message, { ...options, exitCode: ExitCode.INTERNAL });
  }
}

/** An AWS API call failed (CloudWatch, EC2). `code` is ERR_<SERVICE>_<ACTION>; the AWS error code is in the message. */
export class AwsApiError extends ImdsSniffError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, exitCode: ExitCode.AWS_API });
  }
}

/** `enforce` / `rollback` refused: not observed long enough, IMDSv1 callers seen, or changed by someone else. */
export class GateRefusedError extends ImdsSniffError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, exitCode: ExitCode.GATE_REFUSED });
  }
}

/**
 * The output could not be written (full disk, I/O error): the run has no result
 * anyone can read. A closed pipe (the reader went away) is `ERR_OUTPUT_CLOSED`,
 * exit 141 and no message, as for any tool in a pipeline.
 */
export class OutputError extends ImdsSniffError {
  constructor(cause: NodeJS.ErrnoException, where: string) {
    const closed = cause.code === 'EPIPE';
    const reasons: Record<string, string> = { ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', EIO: 'I/O error', EFBIG: 'file too large', EAGAIN: 'the reader did not read for 60 s' };
    super(closed ? 'ERR_OUTPUT_CLOSED' : 'ERR_OUTPUT', closed ? '' : `cannot write the output to ${where}: ${reasons[cause.code ?? ''] ?? cause.message}; this run has no result`, {
      exitCode: closed ? ExitCode.OUTPUT_CLOSED : ExitCode.CANNOT_CAPTURE,
      cause,
    });
  }
}
