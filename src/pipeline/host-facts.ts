// pipeline/: the host facts that open a summary (hostname, OS, kernel, instance id, local addresses).

import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, networkInterfaces, release } from 'node:os';
import type { HostFacts } from '../contract/output-events.js';

/**
 * The distribution as /etc/os-release names it (PRETTY_NAME, else NAME and VERSION_ID), or
 * null. Not systeminformation's osInfo(): for these three facts it loads 10.5 MiB and runs
 * 17 processes (sh, cat, dmesg, hostname, ip …) in 128 ms of CPU (README "Performance").
 */
export function osReleaseName(text: string): string | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const raw = m[2] as string;
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    fields.set(m[1] as string, (quoted ? (quoted[2] as string) : raw).replace(/\\(.)/g, '$1'));
  }
  const pretty = fields.get('PRETTY_NAME');
  if (pretty) return pretty;
  const named = [fields.get('NAME'), fields.get('VERSION_ID')].filter(Boolean).join(' ');
  return named || null;
}

/** Hostname, OS and kernel, read directly (no child process); never throws. `osReleasePaths`: where os-release may be, in order. */
export async function collectHostFacts(instanceId: string | null, osReleasePaths: readonly string[] = ['/etc/os-release', '/usr/lib/os-release']): Promise<HostFacts> {
  let os: string | null = null;
  for (const file of osReleasePaths) {
    try {
      os = osReleaseName(readFileSync(file, 'utf8'));
      break;
    } catch {
      // Try the next place the file may be.
    }
  }
  return { hostname: hostname(), os: os ?? process.platform, kernel: release(), instance_id: instanceId };
}

/** Every address configured on this network namespace's interfaces. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.replace(/%.*$/, ''));
  }
  return out;
}

/** Inode of this process's network namespace, or null when /proc does not say. */
export function ownNetns(): number | null {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/net'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
