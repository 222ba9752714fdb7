// decode/: strips the link-layer header (Ethernet, Linux cooked v1/v2, raw, BSD null) → IP packet.

/** pcap link-layer types (https://www.tcpdump.org/linktypes.html) that decode/ understands. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const LINK_TYPE_NAMES: Record<number, string> = {
  [LinkType.NULL]: 'BSD loopback',
  [LinkType.ETHERNET]: 'Ethernet',
  [LinkType.RAW]: 'raw IP',
  [LinkType.LINUX_SLL]: 'Linux cooked v1',
  [LinkType.IPV4]: 'raw IPv4',
  [LinkType.IPV6]: 'raw IPv6',
  [LinkType.LINUX_SLL2]: 'Linux cooked v2',
};

/** A person's name for a link type, "link type N" for those decode/ does not know. */
export function linkTypeName(linkType: number): string {
  return Object.hasOwn(LINK_TYPE_NAMES, linkType) ? (LINK_TYPE_NAMES[linkType] as string) : `unsupported link type`;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;

/** Where the IP header starts in a frame, or why there is none (with the EtherType when the link layer named one). */
export type LinkResult = { ipOffset: number; version: 4 | 6 } | { drop: string; etherType?: number };

/**
 * Maps the `link_type` string of the pcap package ("LINKTYPE_LINUX_SLL",
 * or "Unknown linktype 276" for types it has no name for) to a number.
 */
export function linkTypeFromPcapName(name: string): number | null {
  const named: Record<string, number> = {
    LINKTYPE_NULL: LinkType.NULL,
    LINKTYPE_ETHERNET: LinkType.ETHERNET,
    LINKTYPE_RAW: LinkType.RAW,
    LINKTYPE_LINUX_SLL: LinkType.LINUX_SLL,
  };
  if (name in named) return named[name] ?? null;
  const m = /^Unknown linktype (\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

function fromEtherType(etherType: number, ipOffset: number): LinkResult {
  if (etherType === ETHERTYPE_IPV4) return { ipOffset, version: 4 };
  if (etherType === ETHERTYPE_IPV6) return { ipOffset, version: 6 };
  return { drop: 'not_ip', etherType };
}

function fromVersionNibble(frame: Uint8Array, ipOffset: number): LinkResult {
  if (frame.length <= ipOffset) return { drop: 'truncated' };
  const version = (frame[ipOffset] as number) >> 4;
  if (version === 4 || version === 6) return { ipOffset, version };
  return { drop: 'not_ip' };
}

/** Finds the IP header in one captured frame. Never throws on wire input. */
export function decodeLink(linkType: number, frame: Uint8Array): LinkResult {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  switch (linkType) {
    case LinkType.ETHERNET: {
      if (frame.length < 14) return { drop: 'truncated' };
      let etherType = view.getUint16(12);
      let offset = 14;
      if (etherType === ETHERTYPE_VLAN) {
        if (frame.length < 18) return { drop: 'truncated' };
        etherType = view.getUint16(16);
        offset = 18;
      }
      return fromEtherType(etherType, offset);
    }
    case LinkType.LINUX_SLL:
      // 16-byte cooked header; protocol (ethertype) in the last two bytes.
      if (frame.length < 16) return { drop: 'truncated' };
      return fromEtherType(view.getUint16(14), 16);
    case LinkType.LINUX_SLL2:
      // 20-byte cooked v2 header; protocol first.
      if (frame.length < 20) return { drop: 'truncated' };
      return fromEtherType(view.getUint16(0), 20);
    case LinkType.NULL:
      return fromVersionNibble(frame, 4);
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case 12:
    case 14:
      return fromVersionNibble(frame, 0);
    default:
      return { drop: 'unsupported_link_type' };
  }
}
