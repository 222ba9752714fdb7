// Test helper: the shipped systemd unit (systemd/imds-sniff.service), read as systemd would: every
// assignment of a key, in order; the capabilities it leaves the agent, in setpriv's spelling.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const UNIT_PATH = fileURLToPath(new URL('../../systemd/imds-sniff.service', import.meta.url));

/** `section.Key` → its values in order (a key may be given more than once). */
export function readUnit(path = UNIT_PATH): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = `${section}.${line.slice(0, eq)}`;
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}

/** The unit's CapabilityBoundingSet as capability names without CAP_, lower case (net_raw …). */
export function unitCapabilities(unit = readUnit()): string[] {
  const values = unit.get('Service.CapabilityBoundingSet') ?? [];
  if (values.length !== 1) throw new Error(`expected one CapabilityBoundingSet line, found ${values.length}`);
  return (values[0] ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((c) => c.replace(/^CAP_/, '').toLowerCase());
}

/** setpriv arguments that give a root process exactly `caps` and the unit's no-new-privileges. */
export function setprivFor(caps: readonly string[]): string[] {
  return ['setpriv', `--bounding-set=-all${caps.map((c) => `,+${c}`).join('')}`, '--inh-caps=-all', '--no-new-privs', '--'];
}
