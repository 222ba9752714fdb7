// pipeline/: the host facts that open a summary (hostname, OS, kernel, instance id, local addresses).

import { readlinkSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import si from 'systeminformation';
import type { HostFacts } from '../sinks/sink.js';

/** Hostname, OS and kernel through systeminformation; never throws. */
export async function collectHostFacts(instanceId: string | null): Promise<HostFacts> {
  try {
    const os = await si.osInfo();
    return {
      hostname: os.hostname || hostname(),
      os: [os.distro, os.release].filter(Boolean).join(' ') || os.platform,
      kernel: os.kernel,
      instance_id: instanceId,
    };
  } catch {
    return { hostname: hostname(), os: process.platform, kernel: 'unknown', instance_id: instanceId };
  }
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
