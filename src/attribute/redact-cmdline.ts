// attribute/: removes secrets from a command line before it leaves the agent (tokens in curl -H …).

import { withoutControls } from '../text/terminal-safe.js';

const REDACTED = '[redacted]';
/** Names whose value is a secret (the token TTL header is not one). */
const SECRET = '(?:x-aws-ec2-metadata-token(?!-ttl)|authorization|proxy-authorization|[a-z0-9_-]*(?:token|secret|password|passwd|credential|cookie|bearer|session[-_]?key|access[-_]?key|api[-_]?key)[a-z0-9_-]*)';
/** `Name: value` anywhere in an argument (a header given to curl/wget, or inside `sh -c '…'`). */
const HEADER_ANYWHERE = new RegExp(`(${SECRET}\\s*:\\s*)(?:bearer\\s+|basic\\s+)?[^\\s'"]+`, 'gi');
/** `name=value` anywhere in an argument (flags, env assignments). */
const ASSIGNMENT_ANYWHERE = new RegExp(`(${SECRET}=)[^\\s'"&]+`, 'gi');
/** `--name` whose next argument is the secret. */
const SECRET_FLAG = new RegExp(`^--?${SECRET}$`, 'i');
/** A bare key naming a secret, as in `aws configure set aws_secret_access_key VALUE`: the next argument is the secret. */
const SECRET_KEY_NAME = /^[a-z0-9_]*(?:secret_access_key|session_token|security_token|secret|password|passwd)[a-z0-9_]*$/i;
/** curl's and wget's short and long flags whose next argument is a secret: `-b cookie`, `-u user:password`, `-E cert:pass`. */
const CLIENT_SECRET_FLAGS: Record<string, ReadonlySet<string>> = {
  curl: new Set(['-b', '-u', '--user', '-U', '--proxy-user', '-E', '--cert', '--oauth2-bearer', '--pass']),
  wget: new Set(['--user', '--http-user', '--proxy-user']),
};
const MAX_ARG_LENGTH = 1024;

function isTtl(name: string): boolean {
  return /ttl/i.test(name);
}

/**
 * Redacts secret values in argv: `X-aws-ec2-metadata-token: v` headers,
 * `name=v` and `--name v` where the name says token/secret/password/credential/cookie,
 * curl's `-b`/`-u` and wget's `--user` values.
 * Scripts put IMDS tokens on curl's command line; none of it may reach a log.
 * Also bounds each argument and replaces control characters.
 */
export function redactCmdline(argv: readonly string[]): string[] {
  const out: string[] = [];
  const clientFlags = CLIENT_SECRET_FLAGS[(argv[0] ?? '').split('/').pop() ?? ''];
  let redactNext = false;
  for (const raw of argv) {
    if (redactNext) {
      out.push(REDACTED);
      redactNext = false;
      continue;
    }
    let arg = withoutControls(raw)
      .replace(HEADER_ANYWHERE, (whole, name: string) => (isTtl(name) ? whole : `${name.replace(/\s*$/, '').replace(/:$/, ': ')}${REDACTED}`.replace(/:\s+:/, ':')))
      .replace(ASSIGNMENT_ANYWHERE, (whole, name: string) => (isTtl(name) ? whole : `${name}${REDACTED}`));
    if ((SECRET_FLAG.test(arg) && !isTtl(arg)) || SECRET_KEY_NAME.test(arg) || clientFlags?.has(arg)) redactNext = true;
    // The value attached to a short flag (`-uuser:pass`, `-bsid=…`) or a long one (`--user=user:pass`).
    const attached = clientFlags === undefined ? null : /^(-[a-zA-Z]|--[a-z0-9-]+=)(.+)$/.exec(arg);
    if (attached !== null && clientFlags?.has((attached[1] as string).replace(/=$/, ''))) arg = `${attached[1] as string}${REDACTED}`;
    if (arg.length > MAX_ARG_LENGTH) arg = `${arg.slice(0, MAX_ARG_LENGTH)}…`;
    out.push(arg);
  }
  return out;
}
