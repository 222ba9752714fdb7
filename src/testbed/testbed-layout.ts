// Testbed layout (pure): namespace names, addresses and the ip/sysctl/nft steps that build the topology.

import { TestbedError } from '../errors.js';
import { IMDS_IPV4, IMDS_IPV6 } from '../imds-endpoint.js';

/** The three namespaces of a testbed: the "EC2 instance", the IMDS, and a container on the instance. */
export type TestbedNamespace = 'host' | 'imds' | 'ctr';

/** Every name and address of one testbed. IPv6 blocks reuse the decimal digits of `block`. */
export interface TestbedLayout {
  prefix: string;
  block: number;
  netns: Record<TestbedNamespace, string>;
  /** Interface names; each lives in its own namespace, so they repeat across testbeds. */
  interfaces: {
    /** Host side of the host⇄imds veth: where an agent on the instance sees IMDS traffic. */
    hostUplink: string;
    /** Docker-like bridge in the host namespace. */
    bridge: string;
    /** Host-side end of the container veth, enslaved to the bridge. */
    hostContainerVeth: string;
    /** Interface in the imds namespace and in the ctr namespace. */
    imds: string;
    ctr: string;
  };
  imds: { v4: string; v6: string };
  host: { v4: string; v6: string };
  imdsGateway: { v4: string; v6: string };
  bridge: { v4: string; v6: string };
  ctr: { v4: string; v6: string };
  /** The container network (CIDR), what the host masquerades. */
  ctrSubnet: { v4: string; v6: string };
}

/** An external command: argv plus optional stdin (for `nft -f -`). */
export interface LayoutStep {
  argv: string[];
  input?: string;
}

const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,23}$/;

/** Checks a prefix: lower-case letters and digits, so `<prefix>-host` is a safe name. */
export function checkPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new TestbedError(`bad testbed prefix "${prefix}": use 1-24 lower-case letters and digits, starting with a letter`);
  }
  return prefix;
}

/** Names and addresses for a prefix and a block number 1..254. */
export function testbedLayout(prefix: string, block: number): TestbedLayout {
  checkPrefix(prefix);
  if (!Number.isInteger(block) || block < 1 || block > 254) {
    throw new TestbedError(`bad testbed block ${block}: use an integer 1..254`);
  }
  const b = String(block);
  return {
    prefix,
    block,
    netns: { host: `${prefix}-host`, imds: `${prefix}-imds`, ctr: `${prefix}-ctr` },
    interfaces: { hostUplink: 'up0', bridge: 'br0', hostContainerVeth: 'vc0', imds: 'eth0', ctr: 'eth0' },
    imds: { v4: IMDS_IPV4, v6: IMDS_IPV6 },
    host: { v4: `10.${b}.0.2`, v6: `fd00:${b}::2` },
    imdsGateway: { v4: `10.${b}.0.1`, v6: `fd00:${b}::1` },
    bridge: { v4: `172.${b}.0.1`, v6: `fd01:${b}::1` },
    ctr: { v4: `172.${b}.0.2`, v6: `fd01:${b}::2` },
    ctrSubnet: { v4: `172.${b}.0.0/24`, v6: `fd01:${b}::/64` },
  };
}

/**
 * The host namespace's NAT: masquerade container traffic leaving through the uplink,
 * v4 and v6, as Docker's `-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE` does.
 */
export function renderMasqueradeRuleset(layout: TestbedLayout): string {
  const { hostUplink } = layout.interfaces;
  return [
    'table inet testbed_nat {',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "${hostUplink}" ip saddr ${layout.ctrSubnet.v4} masquerade`,
    `    oifname "${hostUplink}" ip6 saddr ${layout.ctrSubnet.v6} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The veth ends, as [namespace, interface]; the testbed waits for each to be operationally up. */
export function vethEnds(layout: TestbedLayout): [string, string][] {
  const { netns, interfaces } = layout;
  return [
    [netns.host, interfaces.hostUplink],
    [netns.imds, interfaces.imds],
    [netns.host, interfaces.hostContainerVeth],
    [netns.ctr, interfaces.ctr],
  ];
}

/**
 * The steps, in order, that build a testbed whose namespaces already exist. Every step
 * names its namespace (`ip -n`, `ip netns exec`): nothing touches the root namespace.
 * v6 addresses use `nodad` so they are usable at once instead of after DAD.
 */
export function buildSteps(layout: TestbedLayout): LayoutStep[] {
  const { host: H, imds: I, ctr: C } = layout.netns;
  const { hostUplink: up, bridge: br, hostContainerVeth: vc, imds: ie, ctr: ce } = layout.interfaces;
  const ipn = (ns: string, ...args: string[]): LayoutStep => ({ argv: ['ip', '-n', ns, ...args] });
  const inNs = (ns: string, ...argv: string[]): LayoutStep => ({ argv: ['ip', 'netns', 'exec', ns, ...argv] });
  return [
    ipn(H, 'link', 'set', 'lo', 'up'),
    ipn(I, 'link', 'set', 'lo', 'up'),
    ipn(C, 'link', 'set', 'lo', 'up'),
    // host ⇄ imds
    // Explicit ifindexes: by default both veth ends get index 2 in their namespaces, the
    // kernel's linkwatch then takes the carrier change as non-urgent and the far end stays
    // NO-CARRIER for up to 1 s, dropping the first packets.
    ipn(H, 'link', 'add', up, 'index', '10', 'type', 'veth', 'peer', 'name', ie, 'index', '11', 'netns', I),
    ipn(H, 'addr', 'add', `${layout.host.v4}/24`, 'dev', up),
    ipn(H, 'addr', 'add', `${layout.host.v6}/64`, 'dev', up, 'nodad'),
    ipn(I, 'addr', 'add', `${layout.imdsGateway.v4}/24`, 'dev', ie),
    ipn(I, 'addr', 'add', `${layout.imdsGateway.v6}/64`, 'dev', ie, 'nodad'),
    ipn(I, 'addr', 'add', `${layout.imds.v4}/32`, 'dev', ie),
    ipn(I, 'addr', 'add', `${layout.imds.v6}/128`, 'dev', ie, 'nodad'),
    ipn(H, 'link', 'set', up, 'up'),
    ipn(I, 'link', 'set', ie, 'up'),
    ipn(H, 'route', 'add', `${layout.imds.v4}/32`, 'via', layout.imdsGateway.v4, 'dev', up),
    ipn(H, '-6', 'route', 'add', `${layout.imds.v6}/128`, 'via', layout.imdsGateway.v6, 'dev', up),
    // container on a bridge, as Docker builds it
    ipn(H, 'link', 'add', br, 'type', 'bridge'),
    ipn(H, 'addr', 'add', `${layout.bridge.v4}/24`, 'dev', br),
    ipn(H, 'addr', 'add', `${layout.bridge.v6}/64`, 'dev', br, 'nodad'),
    ipn(H, 'link', 'set', br, 'up'),
    ipn(H, 'link', 'add', vc, 'index', '12', 'type', 'veth', 'peer', 'name', ce, 'index', '13', 'netns', C),
    ipn(H, 'link', 'set', vc, 'master', br),
    ipn(H, 'link', 'set', vc, 'up'),
    ipn(C, 'addr', 'add', `${layout.ctr.v4}/24`, 'dev', ce),
    ipn(C, 'addr', 'add', `${layout.ctr.v6}/64`, 'dev', ce, 'nodad'),
    ipn(C, 'link', 'set', ce, 'up'),
    ipn(C, 'route', 'add', 'default', 'via', layout.bridge.v4, 'dev', ce),
    ipn(C, '-6', 'route', 'add', 'default', 'via', layout.bridge.v6, 'dev', ce),
    // forwarding and NAT in the host namespace only (these sysctls are per-netns)
    inNs(H, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'),
    inNs(H, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1'),
    { ...inNs(H, 'nft', '-f', '-'), input: renderMasqueradeRuleset(layout) },
  ];
}
