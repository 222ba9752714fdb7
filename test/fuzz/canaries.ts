// Fuzz harness: the canary secrets planted in the corpus, and how to find them (or what is left of them)
// in any output, even after a mutation changed part of one.

/** Secrets the synthetic traffic carries: a token, role credentials, and credentials of other headers. */
export const FUZZ_CANARY = {
  token: 'AQAEAFUZZCANARYTOKENq8Wz3Lr7Xk2Pf9Tn4Vb6Hc1Jm5Ds0GyEaQuRiOpSd==',
  accessKeyId: 'ASIAFUZZCANARY7Q2W3E',
  secretAccessKey: 'FuzzCanarySecret/k9Jx2Lq7Wm4Rt8Yp3Zs6Vb1N',
  sessionToken: 'IQoJFuzzCanarySessionTokenb3JpZ2luX2VjEKr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ',
  bearer: 'FuzzCanaryBearer9d8s7f6g5h4j3k2l1zXcVbNm',
  basic: 'RnV6ekNhbmFyeUJhc2ljOnB3ZDEyMzQ1Njc4OTA=',
  cookie: 'FuzzCanaryCookie3m4n5b6v7c8x9zAqWsEdRf',
  proxy: 'FuzzCanaryProxy1q2w3e4r5t6y7u8i9oPlMkNj',
  signature: 'fc0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a',
} as const;

/** Secrets planted in fixtures/pcap by scripts/record-fixtures.mjs (the same list as test/unit/fixtures/golden.test.ts). */
export const FIXTURE_CANARIES = [
  'AQAEAFIXTURECANARYTOKEN0000000000000000000000000000000==',
  'ASIAFIXTURECANARY000',
  'fixtureCanarySecretKey/0000000000000000000',
  'IQoJfixtureCanarySessionToken',
] as const;

/** Every full canary value. */
export const ALL_CANARIES: readonly string[] = [...Object.values(FUZZ_CANARY), ...FIXTURE_CANARIES];

/** Words no output has any reason to contain: each canary carries at least one. */
const MARKERS = ['FUZZCANARY', 'FuzzCanary', 'FIXTURECANARY', 'fixtureCanary', 'CANARYTOKEN', 'CanarySecret', 'CanarySession'];

/** Length of the canary windows looked for: long enough never to occur by chance in output. */
const WINDOW = 12;
/** A window needs this many different characters to count ("000000000000" is no evidence). */
const MIN_DISTINCT = 6;

/**
 * Every WINDOW-long substring of every canary that is distinctive enough:
 * a mutation that flips one byte of a canary leaves most of them intact, so a
 * half-mangled secret is still found.
 */
const WINDOWS: ReadonlyMap<string, string> = (() => {
  const windows = new Map<string, string>();
  for (const canary of ALL_CANARIES) {
    for (let i = 0; i + WINDOW <= canary.length; i++) {
      const w = canary.slice(i, i + WINDOW);
      if (new Set(w).size >= MIN_DISTINCT && !windows.has(w)) windows.set(w, canary);
    }
  }
  return windows;
})();

/** An IMDSv2 token is base64 starting "AQAE": any such run of 20+ characters is one, whoever planted it. */
const TOKEN_LIKE = /AQAE[A-Za-z0-9+/=_-]{16,}/g;
/** A temporary access key id. */
const ACCESS_KEY_LIKE = /(?:ASIA|AKIA)[A-Z0-9]{16}/g;

/** Characters the canaries are made of: windows are only looked for in runs of them. */
const CANARY_RUN = /[A-Za-z0-9+/=_-]{12,}/g;

/** Index of the first canary window in `text`, or -1. */
function findWindow(text: string): number {
  CANARY_RUN.lastIndex = 0;
  for (let run = CANARY_RUN.exec(text); run !== null; run = CANARY_RUN.exec(text)) {
    const r = run[0];
    for (let i = 0; i + WINDOW <= r.length; i++) if (WINDOWS.has(r.slice(i, i + WINDOW))) return run.index + i;
  }
  return -1;
}

/** One place where a secret (or a piece of one) shows in a text. */
export interface SecretHit {
  /** What matched: "marker", "window", "token_like" or "access_key_like". */
  rule: 'marker' | 'window' | 'token_like' | 'access_key_like';
  index: number;
  /** The matched text, masked (first 8 characters only). */
  masked: string;
}

/** Shows a secret as its first 8 characters only. */
export function maskSecret(secret: string): string {
  return secret.length <= 8 ? secret : `${secret.slice(0, 8)}…`;
}

/**
 * Finds canary secrets in `text`: the marker words, any distinctive 12-character
 * window of a known canary, an "AQAE" token-like base64 run and an access key id.
 * Returns at most one hit per rule (the first), enough to fail and reproduce.
 */
export function findSecrets(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  let markerAt = -1;
  for (const marker of MARKERS) {
    const at = text.indexOf(marker);
    if (at >= 0 && (markerAt < 0 || at < markerAt)) markerAt = at;
  }
  if (markerAt >= 0) hits.push({ rule: 'marker', index: markerAt, masked: maskSecret(text.slice(markerAt, markerAt + 40)) });
  const window = findWindow(text);
  if (window >= 0) hits.push({ rule: 'window', index: window, masked: maskSecret(text.slice(window, window + 40)) });
  for (const [rule, pattern] of [['token_like', TOKEN_LIKE], ['access_key_like', ACCESS_KEY_LIKE]] as const) {
    pattern.lastIndex = 0;
    const m = pattern.exec(text);
    if (m) hits.push({ rule, index: m.index, masked: maskSecret(m[0]) });
  }
  return hits;
}

/**
 * `text` with every secret-looking run cut to its first 8 characters, for
 * failure reports: a reproducer must not republish the secret it found.
 */
export function maskSecrets(text: string): string {
  return text.replace(/[A-Za-z0-9+/=_.-]{9,}/g, (run) => (findSecrets(run).length > 0 || sharesShortWindow(run) ? maskSecret(run) : run));
}

/** Short (8-character) canary windows: masking errs on the side of hiding. */
const SHORT_WINDOWS: ReadonlySet<string> = new Set(
  ALL_CANARIES.flatMap((canary) => Array.from({ length: Math.max(0, canary.length - 7) }, (_, i) => canary.slice(i, i + 8))).filter((w) => new Set(w).size >= 4),
);

function sharesShortWindow(run: string): boolean {
  for (let i = 0; i + 8 <= run.length; i++) if (SHORT_WINDOWS.has(run.slice(i, i + 8))) return true;
  return false;
}
