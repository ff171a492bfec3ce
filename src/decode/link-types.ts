/**
 * LINKTYPE values (as stored in pcap/pcapng files, from the tcpdump.org linktypes table) that the
 * decoder knows, and display names for `info`. Files carry LINKTYPE values, not the OS-specific
 * DLT values, which is why 12 and 14 are only "raw IP where the writer meant it".
 */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_12: 12,
  RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL (BSD loopback)'],
  [1, 'ETHERNET'],
  [6, 'IEEE802_5 (Token Ring)'],
  [9, 'PPP'],
  [10, 'FDDI'],
  [12, 'RAW (DLT 12)'],
  [14, 'RAW (DLT 14)'],
  [50, 'PPP_HDLC'],
  [51, 'PPP_ETHER (PPPoE)'],
  [101, 'RAW'],
  [104, 'C_HDLC'],
  [105, 'IEEE802_11'],
  [108, 'LOOP (OpenBSD loopback)'],
  [113, 'LINUX_SLL'],
  [127, 'IEEE802_11_RADIOTAP'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [276, 'LINUX_SLL2'],
]);

/** Whether decodePacket() decodes this link type (others are counted as unknown-link). */
export function isDecodedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LinkType.NULL:
    case LinkType.ETHERNET:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
    case LinkType.RAW:
    case LinkType.LOOP:
    case LinkType.LINUX_SLL:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case LinkType.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/** `ETHERNET`, `LINUX_SLL2`, ... or `LINKTYPE_<n>` for values without a name here. */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}
