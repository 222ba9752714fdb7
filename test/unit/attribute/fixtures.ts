// Paths into fixtures/proc and loaders for its sample files, shared by the attribute unit tests.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file under fixtures/proc. */
export function fixturePath(...parts: string[]): string {
  return fileURLToPath(new URL(['../../../fixtures/proc', ...parts].join('/'), import.meta.url));
}

/** Text of a file under fixtures/proc. */
export function fixtureText(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}

/** trace-pipe-samples.txt as case name → line. */
export function traceSamples(): Map<string, string> {
  const cases = new Map<string, string>();
  let name: string | null = null;
  for (const line of fixtureText('trace', 'trace-pipe-samples.txt').split('\n')) {
    const m = /^# case: (\S+)/.exec(line);
    if (m) name = m[1] ?? null;
    else if (name && line !== '') {
      cases.set(name, line);
      name = null;
    }
  }
  return cases;
}

/** The fake root: hostRoot holds etc/passwd, procRoot is its proc/. */
export const fakeHost = {
  hostRoot: fixturePath('host'),
  procRoot: fixturePath('host', 'proc'),
};
