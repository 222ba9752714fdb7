// Test helper: one network namespace for simulated hosts, joined to this one by a veth pair and nothing else: no default
// route, so a program inside that asks 169.254.169.254 fails at once and no packet leaves the machine.

import { deleteNetns, ip, listNetns, killNetnsProcesses } from '../../src/testbed/netns.js';

export class HostNamespace {
  private constructor(readonly name: string, readonly rootIp: string, readonly nsIp: string, private readonly rootDev: string) {}

  /** `name` ≤ 11 characters; `block` picks 10.<block>.0.0/30. A namespace left by an earlier run is removed first. */
  static async create(name: string, block: number): Promise<HostNamespace> {
    if (!/^[a-z][a-z0-9]{0,10}$/.test(name)) throw new Error(`bad namespace name ${name}`);
    if ((await listNetns()).includes(name)) await HostNamespace.remove(name);
    const rootIp = `10.${block}.0.1`;
    const nsIp = `10.${block}.0.2`;
    const rootDev = `${name}-r`;
    await ip(['netns', 'add', name]);
    try {
      await ip(['link', 'add', rootDev, 'type', 'veth', 'peer', 'name', `${name}-h`, 'netns', name]);
      await ip(['addr', 'add', `${rootIp}/30`, 'dev', rootDev]);
      await ip(['link', 'set', rootDev, 'up']);
      await ip(['-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', `${name}-h`]);
      await ip(['-n', name, 'link', 'set', `${name}-h`, 'up']);
      await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      await HostNamespace.remove(name);
      throw error;
    }
    return new HostNamespace(name, rootIp, nsIp, rootDev);
  }

  private static async remove(name: string): Promise<void> {
    await killNetnsProcesses(name);
    await deleteNetns(name);
    // The root end goes with its peer; a half-made pair may be left alone.
    await ip(['link', 'del', `${name}-r`]).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    await HostNamespace.remove(this.name);
    await ip(['link', 'del', this.rootDev]).catch(() => undefined);
  }
}
