// text/: removes secret-shaped values from any text before it is printed (the second line of defence).

const REDACTED = '[redacted]';

/**
 * A secret header, or `name=`, whose value reached a text field because the line
 * break before it was damaged or unusual: everything after the name goes.
 */
const SECRET_HEADER = /(x-aws-ec2-metadata-token(?!-ttl)|proxy-authorization|authorization|set-cookie|cookie)(\s*[:=]\s*).*$/i;
/**
 * Values that look like AWS secrets whatever surrounds them: IMDSv2 tokens
 * (base64 starting AQAE), STS session tokens (IQoJ…, FwoG…, AgoJ…) and access key ids.
 */
const SECRET_VALUE = /(?:AQAE|IQoJ|FwoG|AgoJ)[A-Za-z0-9+/=_-]{8,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;
/** 40 base64 characters with '/' or '+' and mixed case and a digit: the shape of a secret access key. */
const SECRET_KEY_RUN = /[A-Za-z0-9+/]{40,}/g;
/** Cheap gate: most text holds none of the shapes above. */
const MAYBE = /AQAE|IQoJ|FwoG|AgoJ|AKIA|ASIA|token|auth|cookie|[A-Za-z0-9+/]{40}/i;

function looksLikeSecretKey(run: string): boolean {
  return /[/+]/.test(run) && /[0-9]/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run);
}

/**
 * `text` with every secret-shaped value replaced by `[redacted]`. Token values
 * are redacted where headers are parsed; this catches what hostile or damaged
 * framing pushes into another field (a User-Agent, a path, an argv).
 */
export function scrubSecrets(text: string): string {
  if (!MAYBE.test(text)) return text;
  return text
    .replace(SECRET_HEADER, (_whole, name: string, separator: string) => `${name}${separator}${REDACTED}`)
    .replace(SECRET_VALUE, REDACTED)
    .replace(SECRET_KEY_RUN, (run) => (looksLikeSecretKey(run) ? REDACTED : run));
}
