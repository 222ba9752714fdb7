// text/: removes secret-shaped values from any text before it is printed (the second line of defence).

const REDACTED = '[redacted]';

/**
 * Names that say a secret follows (not a token's TTL, which is no secret). Kept loose on purpose: in a field that a
 * damaged or hostile request polluted, `Authorization?: `, `SecretAccessK?y=` and
 * `x-aws-ec2-metadata-token$ ` must all still count.
 */
const SECRET_NAME = String.raw`(?![A-Za-z0-9_?-]*ttl)[A-Za-z0-9_?-]*?(?:token|secret|passw|credential|auth|cookie|bearer|signature|session[-_?]?key|access[-_?]?key|api[-_?]?key)[A-Za-z0-9_?-]*`;
/**
 * A secret name, then a separator holding `:`, `=` or `?` (a control character
 * as sanitizeText shows it), then the value: everything after the name goes.
 */
const SECRET_HEADER = new RegExp(`(${SECRET_NAME})([^A-Za-z0-9/._-]{0,2}[:=?][^A-Za-z0-9/._-]{0,2})(?!\\[redacted\\])\\S[\\s\\S]*$`, 'i');
/**
 * Values that look like AWS secrets whatever surrounds them: IMDSv2 tokens
 * (base64 starting AQAE), STS session tokens (IQoJ…, FwoG…, AgoJ…) and access key ids.
 */
const SECRET_VALUE = /(?:AQAE|IQoJ|FwoG|AgoJ)[A-Za-z0-9+/=_-]{8,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;
/** `user:password@` in a URL (also one whose scheme was damaged). */
const USERINFO = /([^\s/:@?#]*):[^\s/@]+@/g;
/** 40+ base64 characters with '/' or '+': the shape of a secret access key. */
const SECRET_KEY_RUN = /[A-Za-z0-9+/]{40,}/g;
/** 28+ characters of base64 that mix upper and lower case and digits: a random key, not a word or a path. */
const RANDOM_RUN = /[A-Za-z0-9+=]{28,}/g;
/** Cheap gate: most text holds none of the shapes above. */
const MAYBE = /AQAE|IQoJ|FwoG|AgoJ|AKIA|ASIA|tok|secr|pass|cred|auth|cook|bear|sign|key|:[^\s/@]+@|[A-Za-z0-9+/=]{28}/i;

function mixed(run: string): boolean {
  return /[0-9]/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run);
}

/**
 * `text` with every secret-shaped value replaced by `[redacted]`, and nothing
 * after the first one it found: where one secret leaked into a field, what follows
 * is the rest of it or of another, damaged past recognition. Token values are
 * redacted where headers are parsed, and command lines where they are read (those
 * `[redacted]` marks are left as they are); this catches what hostile or damaged
 * framing pushes into another field (a User-Agent, a path, an argv).
 */
export function scrubSecrets(text: string): string {
  if (!MAYBE.test(text)) return text;
  const out = text
    .replace(SECRET_HEADER, (_whole, name: string, separator: string) => `${name}${separator}${REDACTED}`)
    .replace(SECRET_VALUE, REDACTED)
    .replace(USERINFO, (_whole, user: string) => `${user}:${REDACTED}@`)
    .replace(SECRET_KEY_RUN, (run) => (/[/+]/.test(run) && mixed(run) ? REDACTED : run))
    .replace(RANDOM_RUN, (run) => (mixed(run) ? REDACTED : run));
  if (out === text) return text;
  let same = 0;
  while (same < out.length && out[same] === text[same]) same += 1;
  const first = out.indexOf(REDACTED, Math.max(0, same - REDACTED.length + 1));
  return first < 0 ? out : out.slice(0, first + REDACTED.length);
}
