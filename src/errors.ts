// Error classes, the registry of stable error codes and the one exit-code table (README "Exit codes", "Error codes").

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

/** The error classes: each code belongs to one, and the class sets the exit code. */
export type ErrorClassName = 'UsageError' | 'CaptureError' | 'PcapFileError' | 'OutputError' | 'TestbedError' | 'AwsApiError' | 'GateRefusedError' | 'VerifyFailedError' | 'InternalError';

interface ErrorCodeEntry {
  class: ErrorClassName;
  exitCode: ExitCodeValue;
  /** One line: what happened. The README's table is this registry. */
  meaning: string;
}

const E = <C extends ErrorClassName>(cls: C, exitCode: ExitCodeValue, meaning: string): ErrorCodeEntry & { class: C } => ({ class: cls, exitCode, meaning });

/**
 * Every error code imds-sniff can print, with its class, exit code and meaning.
 * Codes are stable: scripts match them (stderr `[ERR_…]`, JSON `code`). Add,
 * never rename; a test checks the README table lists exactly these.
 */
export const ERROR_CODES = {
  ERR_USAGE: E('UsageError', ExitCode.USAGE, 'a flag, value, config file or argument is wrong'),
  ERR_NOT_ON_EC2: E('UsageError', ExitCode.USAGE, 'this host is not an EC2 instance (IMDS did not answer): give --instance-id and --region'),
  ERR_STATE_UNREADABLE: E('UsageError', ExitCode.USAGE, "a file in the agent's state directory (state, change log, audit log) cannot be read or written, or is not what it should be"),
  ERR_CAPTURE_PERMISSION: E('CaptureError', ExitCode.CANNOT_CAPTURE, 'no permission to capture: not root and no CAP_NET_RAW'),
  ERR_CAPTURE_OPEN: E('CaptureError', ExitCode.CANNOT_CAPTURE, 'libpcap could not open the capture'),
  ERR_UNKNOWN_INTERFACE: E('CaptureError', ExitCode.CANNOT_CAPTURE, 'no network interface of that name'),
  ERR_LIBPCAP_MISSING: E('CaptureError', ExitCode.CANNOT_CAPTURE, 'libpcap (or the pcap binding) cannot be loaded'),
  ERR_LINK_TYPE: E('CaptureError', ExitCode.CANNOT_CAPTURE, 'the interface or file has a link type imds-sniff cannot decode'),
  ERR_ATTRIBUTION_UNAVAILABLE: E('CaptureError', ExitCode.CANNOT_CAPTURE, 'the attribution method asked for (tracefs, procfs) cannot run here'),
  ERR_PCAP_FILE: E('PcapFileError', ExitCode.CANNOT_CAPTURE, 'a capture file (--read) cannot be read'),
  ERR_OUTPUT: E('OutputError', ExitCode.CANNOT_CAPTURE, 'the output could not be written (full disk, I/O error): the run has no result'),
  ERR_OUTPUT_CLOSED: E('OutputError', ExitCode.OUTPUT_CLOSED, 'the reader of the output went away (`| head`); nothing is printed'),
  ERR_AWS_CREDENTIALS: E('AwsApiError', ExitCode.AWS_API, 'no usable AWS credentials'),
  ERR_AWS_INSTANCE_NOT_FOUND: E('AwsApiError', ExitCode.AWS_API, 'EC2 does not know the instance (id or region wrong)'),
  ERR_AWS_LAUNCH_TEMPLATE_NOT_FOUND: E('AwsApiError', ExitCode.AWS_API, 'EC2 does not know the launch template (id, name or region wrong)'),
  ERR_AWS_DRY_RUN_IGNORED: E('AwsApiError', ExitCode.AWS_API, 'the endpoint ignored DryRun: the change may have been made'),
  ERR_AWS_OUTCOME_UNKNOWN: E('AwsApiError', ExitCode.AWS_API, 'a change call got no clear answer and the read-back cannot tell: see status'),
  ERR_AWS_DESCRIBE_INSTANCES: E('AwsApiError', ExitCode.AWS_API, 'DescribeInstances failed (not authorized, throttled, unreachable)'),
  ERR_AWS_MODIFY_INSTANCE_METADATA_OPTIONS: E('AwsApiError', ExitCode.AWS_API, 'ModifyInstanceMetadataOptions failed'),
  ERR_AWS_DESCRIBE_LAUNCH_TEMPLATES: E('AwsApiError', ExitCode.AWS_API, 'DescribeLaunchTemplates failed'),
  ERR_AWS_DESCRIBE_LAUNCH_TEMPLATE_VERSIONS: E('AwsApiError', ExitCode.AWS_API, 'DescribeLaunchTemplateVersions failed'),
  ERR_AWS_CREATE_LAUNCH_TEMPLATE_VERSION: E('AwsApiError', ExitCode.AWS_API, 'CreateLaunchTemplateVersion failed or returned no version'),
  ERR_AWS_MODIFY_LAUNCH_TEMPLATE: E('AwsApiError', ExitCode.AWS_API, 'ModifyLaunchTemplate (set the default version) failed'),
  ERR_AWS_LIST_METRICS: E('AwsApiError', ExitCode.AWS_API, 'ListMetrics (the agents\' metrics) failed'),
  ERR_AWS_GET_METRIC_DATA: E('AwsApiError', ExitCode.AWS_API, 'GetMetricData (the agents\' metrics) failed'),
  ERR_AWS_GET_CALLER_IDENTITY: E('AwsApiError', ExitCode.AWS_API, 'GetCallerIdentity (the fleet\'s own account) failed'),
  ERR_AWS_LIST_ACCOUNTS: E('AwsApiError', ExitCode.AWS_API, 'ListAccounts (--accounts organization) failed'),
  ERR_AWS_DESCRIBE_REGIONS: E('AwsApiError', ExitCode.AWS_API, 'DescribeRegions (the enabled regions) failed'),
  ERR_CLOUDWATCH_PUT: E('AwsApiError', ExitCode.AWS_API, 'PutMetricData failed (the daemon logs it and keeps the batch)'),
  ERR_NOT_APPLIED: E('AwsApiError', ExitCode.AWS_API, 'EC2 took the change but did not apply it before --timeout'),
  ERR_GATE_REFUSED: E('GateRefusedError', ExitCode.GATE_REFUSED, 'the safety gate refused: observation too short, gaps, or IMDSv1 callers; nothing changed'),
  ERR_CHANGE_IN_PROGRESS: E('GateRefusedError', ExitCode.GATE_REFUSED, 'another enforce or rollback holds the state directory\'s change lock; nothing changed'),
  ERR_CHANGED_MEANWHILE: E('GateRefusedError', ExitCode.GATE_REFUSED, 'someone else changed the instance while enforce ran; nothing more changed'),
  ERR_CHANGED_SINCE_ENFORCE: E('GateRefusedError', ExitCode.GATE_REFUSED, 'rollback: the instance or template was changed since enforce; nothing changed'),
  ERR_VERIFY_FAILED: E('VerifyFailedError', ExitCode.VERIFY_FAILED, 'EC2 applied the change but IMDS on this host does not answer as it should'),
  ERR_CHANGED_AFTER_APPLY: E('VerifyFailedError', ExitCode.VERIFY_FAILED, 'the change was sent, then the instance read back as someone else set it: it is theirs now'),
  ERR_TESTBED: E('TestbedError', ExitCode.INTERNAL, 'the demo\'s network-namespace testbed cannot be built'),
  ERR_INTERNAL: E('InternalError', ExitCode.INTERNAL, 'a bug or an unexpected failure inside imds-sniff: run with --debug and report it'),
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;
/** The codes of one class. */
export type CodeOf<C extends ErrorClassName> = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['class'] extends C ? K : never }[ErrorCode];

interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

/** Base class: a message for the operator, a registered code (which sets the exit code) and an optional hint. */
export class ImdsSniffError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  /** Already part of a JSON report on stdout (control commands): main.ts prints no second JSON error. */
  reported = false;

  protected constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = ERROR_CODES[code].exitCode;
    this.hint = options.hint;
  }

  /** The error as the JSON output carries it. */
  toJSON(): { event: 'error'; code: ErrorCode; exit_code: ExitCodeValue; message: string; hint: string | null } {
    return { event: 'error', code: this.code, exit_code: this.exitCode, message: this.message, hint: this.hint ?? null };
  }
}

/** A flag, value or config field is wrong (or the state directory cannot be used). */
export class UsageError extends ImdsSniffError {
  constructor(message: string, options?: ErrorOptions);
  constructor(code: CodeOf<'UsageError'>, message: string, options?: ErrorOptions);
  constructor(a: string, b?: string | ErrorOptions, c: ErrorOptions = {}) {
    if (typeof b === 'string') super(a as CodeOf<'UsageError'>, b, c);
    else super('ERR_USAGE', a, b ?? {});
  }
}

/** Live capture cannot start: privileges, libpcap, unknown interface. */
export class CaptureError extends ImdsSniffError {
  constructor(code: CodeOf<'CaptureError'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A capture file cannot be read. */
export class PcapFileError extends ImdsSniffError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('ERR_PCAP_FILE', message, options);
  }
}

/** The network-namespace testbed (demo, e2e) cannot be built. */
export class TestbedError extends ImdsSniffError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('ERR_TESTBED', message, options);
  }
}

/** An AWS API call failed (CloudWatch, EC2, STS, Organizations); the AWS error code is in the message. */
export class AwsApiError extends ImdsSniffError {
  constructor(code: CodeOf<'AwsApiError'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** `enforce` / `rollback` refused: not observed long enough, IMDSv1 callers seen, a change in progress, or changed by someone else. */
export class GateRefusedError extends ImdsSniffError {
  constructor(code: CodeOf<'GateRefusedError'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The change is applied in EC2 but IMDS on this host does not answer as it should. */
export class VerifyFailedError extends ImdsSniffError {
  constructor(message: string, options?: ErrorOptions);
  constructor(code: CodeOf<'VerifyFailedError'>, message: string, options?: ErrorOptions);
  constructor(a: string, b?: string | ErrorOptions, c: ErrorOptions = {}) {
    if (typeof b === 'string') super(a as CodeOf<'VerifyFailedError'>, b, c);
    else super('ERR_VERIFY_FAILED', a, b ?? {});
  }
}

/** Something imds-sniff did not expect: a bug (main.ts wraps any error that is not an ImdsSniffError in one). */
export class InternalError extends ImdsSniffError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('ERR_INTERNAL', message, options);
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
    super(closed ? 'ERR_OUTPUT_CLOSED' : 'ERR_OUTPUT', closed ? '' : `cannot write the output to ${where}: ${reasons[cause.code ?? ''] ?? cause.message}; this run has no result`, { cause });
  }
}
