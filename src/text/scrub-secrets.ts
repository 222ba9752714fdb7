// text/: removes secret-shaped values from text before it is printed (the second line of defence).
//
// Every rule runs in time linear in the text (the text is bounded by its callers, and at most
// MAX_SCRUB_CHARS are looked at): the agent scrubs inside the capture callback, and any local
// process chooses the User-Agent and path it is fed.

const REDACTED = '[redacted]';
/** Longer text is cut before scrubbing; every field scrubbed is shorter than this anyway. */
const MAX_SCRUB_CHARS = 4096;

/**
 * Words that say a secret follows. Kept loose on purpose: in a field that a damaged
 * or hostile request polluted, `Authorization?: `, `SecretAccessK?y=` and
 * `x-aws-ec2-metadata-token$ ` must all still count.
 */
const SECRET_WORD = /token|secret|pass(?:w|phrase)?|pwd|\bpw\b|credential|auth|cookie|bearer|signature|(?:session|access|api|private)[-_?]?key/gi;
/** Characters of a header or variable name around a secret word (`?` is how sanitizing shows a control byte). */
const NAME_CHAR = /[A-Za-z0-9_?-]/;
/** A name that ends in one of these describes a setting, not a secret: `--authorization-mode=Webhook`, `--token-file=…`. */
const DESCRIPTIVE_NAME = /[-_](?:mode|type|version|method|file|path|dir|url|uri|endpoint|region|ttl(?:-seconds)?|expiry|timeout|provider|scheme|plugin|header|name|id|len|length|size|count)$/i;
/** Longest stretch of name looked at on either side of a secret word. */
const MAX_NAME_CHARS = 64;
/**
 * After a name: `:`, `=`, `?` or their URL encodings (`%3A`, `%3D`), with at most two odd
 * characters either side (`: `, `?: `, `?$`); or a single space after a scheme word
 * (`Bearer x`). Sticky: bounded work at one position.
 */
const SEPARATOR = /[^A-Za-z0-9/._[%-]{0,2}(?:[:=?]|%3[aAdD])[^A-Za-z0-9/._[-]{0,2}/y;
const SCHEME_WORD = /^(?:bearer|token|basic|private-token)$/i;
/** A JSON Web Token: three base64url parts, the first a JSON header (`eyJ…`). */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
/**
 * A header or `name=value` glued onto a wire value (a User-Agent, a path) by a
 * damaged line break: `curl Cooki5: sid=…`, `/to?en>sookie=…`. Real User-Agents and
 * IMDS paths hold neither `Name: value` nor `name=value`. Bounded quantifiers: linear.
 */
const GLUED = /([A-Za-z][A-Za-z0-9_-]{0,40}[^A-Za-z0-9\s/]{0,2}?(?::\s|=))\S/g;
/**
 * In a User-Agent or a path, a secret word (or the token header's name, however damaged after
 * `metadata-to`) and, within a few characters, a `:` or `=`: a header glued on by damaged framing
 * whose name lost its shape (`Proxy-Auth rizavion:`, `X-aws-ec2-metadata-toke ?:`). Bounded: linear.
 */
const WIRE_NAMED = /(?:token|secret|pass(?:w|phrase)?|pwd|credential|auth|cookie|bearer|signature|(?:session|access|api|private)[-_?]?key|metadata-to)[^\s:=]{0,12}\s?[^\s:=]{0,12}[:=]/gi;
/** IMDSv2 tokens (base64 starting AQAE; AQA and any fourth byte, which a damaged byte leaves), STS session tokens (IQoJ…, FwoG…, AgoJ…), access key ids. */
const SECRET_VALUE = /(?:AQA[A-Za-z0-9+/=_-]|IQoJ|FwoG|AgoJ)[A-Za-z0-9+/=_-]{8,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;
/** `//user:password@` in a URL (also one whose scheme was damaged); bounded quantifiers keep it linear. */
const USERINFO = /\/\/[^\s/:@?#]{0,64}:([^\s/@]{1,256})@/g;
/** Exactly 40 base64 characters on their own: the shape of a secret access key. */
const SECRET_KEY = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/])/g;
/** 32+ characters of base64 mixing upper and lower case and digits throughout: a random key, not a word. */
const RANDOM_RUN = /[A-Za-z0-9+=]{32,}/g;
/**
 * 12+ letters and digits with no separator a name or version uses (`/`, `.`, `-`, `_`): in a
 * User-Agent or a path, a run that is also `scrambled` is a piece of a key whose name damaged
 * framing cut off, never a word, version or role name.
 */
const FRAGMENT_RUN = /[A-Za-z0-9+]{12,}/g;
/** The pieces a name is made of: a capitalised or lower-case word, an upper-case run, digits. */
const NAME_PIECE = /[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+|\+/g;
/** A scrambled run's pieces are this short on average (random base64 ~1.7; `S3ReadOnlyEc2Role` 2.4)… */
const SCRAMBLED_MEAN_PIECE = 2;
/** …and none is a word this long (`Access`, `Instance`). */
const SCRAMBLED_LONGEST_PIECE = 5;
/** An upper-case hex tail this long is a hash CloudFormation and the CDK append to a logical id. */
const HEX_TAIL = 8;
/** Characters of a key (base64 and base64url, not the `=` that also separates a name from its value). */
const KEY_CHAR = /[A-Za-z0-9+/_-]/;
/** Base64 characters (not `/`, which also separates path segments). */
const BASE64_CHAR = /[A-Za-z0-9+_-]/;
/** Damaged bytes a secret may be split by, and the least run on the far side that is taken as its start. */
const MAX_DAMAGED_BYTES = 3;
const MIN_BRIDGED_RUN = 8;
/** 8+ characters before an `@` and a host name or address. Bounded: linear. */
const AT_HOST = /[^\s/@]{8,256}(?=@[A-Za-z0-9.[\]:-]+)/g;

/**
 * What goes with a secret found: the rest of the text (`rest`); the rest of the text
 * and any `Name: value` or `name=value` glued on (`wire`: a User-Agent or a path from
 * the wire, which never hold either); or only the rest of the word (`word`: one
 * argument of a command line).
 */
export type ScrubScope = 'rest' | 'wire' | 'word';

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** Two or more each of digits, upper and lower case letters: not a word a person wrote as a name. */
function keyLike(name: string): boolean {
  return count(name, /[0-9]/g) >= 2 && count(name, /[a-z]/g) >= 2 && count(name, /[A-Z]/g) >= 2;
}

/** Kind of a character: 0 digit, 1 upper case, 2 lower case, 3 other. */
function kind(c: string): number {
  return c >= '0' && c <= '9' ? 0 : c >= 'A' && c <= 'Z' ? 1 : c >= 'a' && c <= 'z' ? 2 : 3;
}

/**
 * Key-like, and made of short pieces only (`k9Jx2Lq7Wm4R`: k 9 Jx 2 Lq 7 Wm 4 R), not of words
 * (`S3ReadOnlyEc2Role`, `Ec2S3AccessRole`). An upper-case hex tail (`WebRole3F8E2F42`) is a
 * name's hash, not a key's, and is left out of the judgement.
 */
function scrambled(whole: string): boolean {
  let end = whole.length;
  while (end > 0 && /[0-9A-F]/.test(whole[end - 1] as string)) end -= 1;
  const run = whole.length - end >= HEX_TAIL ? whole.slice(0, end) : whole;
  if (run.length < 12 || !keyLike(run)) return false;
  const pieces = run.match(NAME_PIECE) ?? [];
  return pieces.length > 0 && run.length / pieces.length <= SCRAMBLED_MEAN_PIECE && pieces.every((p) => p.length <= SCRAMBLED_LONGEST_PIECE);
}

function randomLooking(run: string, minEach: number): boolean {
  return count(run, /[0-9]/g) >= minEach && count(run, /[a-z]/g) >= 4 && count(run, /[A-Z]/g) >= 4;
}

/** Start of the value after each secret name with a separator: the spans to redact. */
function afterSecretNames(text: string, spans: Array<[number, number]>): void {
  SECRET_WORD.lastIndex = 0;
  for (let m = SECRET_WORD.exec(text); m !== null; m = SECRET_WORD.exec(text)) {
    let start = m.index;
    while (start > 0 && m.index - start < MAX_NAME_CHARS && NAME_CHAR.test(text[start - 1] as string)) start -= 1;
    let end = m.index + m[0].length;
    while (end < text.length && end - m.index < MAX_NAME_CHARS && NAME_CHAR.test(text[end] as string)) end += 1;
    while (end > m.index + m[0].length && text[end - 1] === '?') end -= 1; // a trailing `?` may be the separator's
    const name = text.slice(start, end);
    if (/ttl/i.test(name) || DESCRIPTIVE_NAME.test(name)) continue; // a token's lifetime, a setting's name: no secret follows
    // The separator may stand right after the word or after more of the name (`token?hunter2`, `SecretAccessK?y=`).
    let value = -1;
    for (let at = m.index + m[0].length; at <= end && value < 0; at++) {
      SEPARATOR.lastIndex = at;
      if (SEPARATOR.test(text)) value = SEPARATOR.lastIndex;
    }
    if (value < 0 && SCHEME_WORD.test(name) && text[end] === ' ') value = end + 1;
    if (value >= 0 && value < text.length && !/\s/.test(text[value] as string) && !text.startsWith(REDACTED, value)) spans.push([value, value + 1]);
  }
}

function matches(text: string, pattern: RegExp, keep: (match: RegExpExecArray) => [number, number] | null, spans: Array<[number, number]>): void {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const span = keep(m);
    if (span !== null) spans.push(span);
  }
}

/**
 * `text` with secret-shaped values replaced by `[redacted]`: a value after a
 * secret-looking name and a separator, AWS tokens and keys, URL passwords,
 * random-looking keys. With scope `rest` nothing after the first one found is
 * kept (in a field a secret leaked into, what follows is the rest of it, or of
 * another one damaged past recognition); with `word`, the rest of its word.
 * Token values are redacted where headers are parsed and command lines where
 * they are read (those `[redacted]` marks stay as they are); this catches what
 * hostile or damaged framing pushes into another field.
 */
export function scrubSecrets(input: string, scope: ScrubScope = 'rest'): string {
  const text = input.length > MAX_SCRUB_CHARS ? input.slice(0, MAX_SCRUB_CHARS) : input;
  const spans: Array<[number, number]> = [];
  afterSecretNames(text, spans);
  const values: Array<[number, number]> = [];
  matches(text, SECRET_VALUE, (m) => [m.index, m.index + m[0].length], values);
  matches(text, USERINFO, (m) => [m.index + m[0].length - (m[1] as string).length - 1, m.index + m[0].length - 1], values);
  matches(text, SECRET_KEY, (m) => (/[/+]/.test(m[0]) && randomLooking(m[0], 1) ? [m.index, m.index + 40] : null), values);
  matches(text, RANDOM_RUN, (m) => (randomLooking(m[0], 4) ? [m.index, m.index + m[0].length] : null), values);
  matches(text, JWT, (m) => [m.index, m.index + m[0].length], values);
  if (scope === 'wire') {
    matches(text, GLUED, (m) => {
      // A "name" that is itself key-like (`…OpSd=` of a damaged token's padding) goes too.
      if (keyLike((m[1] as string).replace(/[^A-Za-z0-9_-]+$/, ''))) values.push([m.index, m.index + m[0].length]);
      return [m.index + (m[1] as string).length, m.index + m[0].length];
    }, spans);
    // `…@host` with no `//` before it (a damaged scheme): what stands before the `@` may be a password.
    matches(text, AT_HOST, (m) => [m.index, m.index + m[0].length], values);
    // A damaged header name, then its separator: what follows is the value.
    matches(text, WIRE_NAMED, (m) => {
      let value = m.index + m[0].length;
      while (value < text.length && text[value] === ' ') value += 1;
      return value < text.length ? [value, value + 1] : null;
    }, spans);
    // The tail of a key whose name and start damaged framing cut off: nothing says "secret" but its
    // shape. Only the run itself: the path or name before it is no part of it.
    matches(text, FRAGMENT_RUN, (m) => (scrambled(m[0]) ? [m.index, m.index + m[0].length] : null), spans);
  }
  // A value found inside a longer run of key characters takes the whole run: the part before it is
  // the same secret with a byte damaged where the rule began to match.
  // A byte damaged into something else (a quote, `?`) splits a secret in two: a run of 8+ base64
  // characters right before one such byte goes too.
  for (const span of values) {
    while (span[0] > 0 && KEY_CHAR.test(text[span[0] - 1] as string)) span[0] -= 1;
    for (let bridges = 0; bridges < MAX_DAMAGED_BYTES && span[0] >= 2 && !/\s/.test(text[span[0] - 1] as string); bridges++) {
      let run = span[0] - 1;
      while (run > 0 && BASE64_CHAR.test(text[run - 1] as string)) run -= 1;
      if (span[0] - 1 - run < MIN_BRIDGED_RUN) break;
      span[0] = run;
    }
    spans.push(span);
  }
  if (spans.length === 0) return input;
  spans.sort((a, b) => a[0] - b[0]);
  if (scope !== 'word') return `${text.slice(0, (spans[0] as [number, number])[0])}${REDACTED}`;
  let out = '';
  let at = 0;
  for (const [start] of spans) {
    if (start < at) continue;
    const wordEnd = text.slice(start).search(/[\s'"]/);
    out += `${text.slice(at, start)}${REDACTED}`;
    at = wordEnd < 0 ? text.length : start + wordEnd;
  }
  return out + text.slice(at);
}
