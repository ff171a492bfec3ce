/**
 * Ethernet frames captured with their Frame Check Sequence (a pcap whose link-type word has the
 * FCS bits set, a pcapng interface with if_fcslen, or an EPB whose epb_flags give an FCS length).
 * The FCS is a CRC-32 over the frame; an edited frame keeps its length, so its FCS no longer
 * matches and Wireshark (`eth.check_fcs`) marks it bad. The ASA transmits an edited frame with a
 * new FCS computed by its NIC, so a writer recomputes it for an edited packet (pkt.modified) of an
 * Ethernet interface whose FCS was captured whole. Only there: never per unedited packet.
 */

const LINKTYPE_ETHERNET = 1;

const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** IEEE 802.3 CRC-32 of buf[start, end). */
export function crc32(buf: Buffer, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * FCS bytes at the end of each frame from a pcap link-type word: bit 26 says the FCS length in
 * bits 28-31 (in 16-bit units) is present (pcap file format, LinkType field).
 */
export function pcapFcsBytes(linkTypeWord: number): number {
  return linkTypeWord & 0x04000000 ? ((linkTypeWord >>> 28) & 0xf) * 2 : 0;
}

/**
 * FCS bytes from a pcapng if_fcslen value. The draft says bits, older text and writers bytes;
 * an Ethernet FCS is always 32 bits, and Wireshark reads any non-zero value on Ethernet as one.
 */
export function ifFcsBytes(linkType: number, value: number): number {
  if (value === 0) return 0;
  if (linkType === LINKTYPE_ETHERNET) return 4;
  return value >= 16 && value % 8 === 0 ? value / 8 : value;
}

/** FCS length in octets from epb_flags bits 5-8 (0: not given). */
export function epbFlagsFcsBytes(flags: number): number {
  return (flags >>> 5) & 0xf;
}

/** Whether an edited packet's FCS is to be recomputed: Ethernet, a 4-byte FCS captured whole. */
export function fcsToRefresh(linkType: number, fcsBytes: number, caplen: number, origlen: number): boolean {
  return linkType === LINKTYPE_ETHERNET && fcsBytes === 4 && caplen === origlen && caplen >= 18;
}

/** Smallest Ethernet frame before its FCS (64 bytes with it): a NIC pads shorter ones. */
const ETHERNET_MIN_FRAME = 60;

/**
 * Bytes a writer adds to a synthesised frame (which has no FCS) on an interface whose Ethernet
 * frames carry a 4-byte FCS: padding to 60 bytes, then the FCS. 0 elsewhere.
 */
export function synthesizedFcsExtra(linkType: number, fcsBytes: number, caplen: number): number {
  if (linkType !== LINKTYPE_ETHERNET || fcsBytes !== 4) return 0;
  return Math.max(0, ETHERNET_MIN_FRAME - caplen) + 4;
}

/** Writes the FCS of the Ethernet frame buf[at, at + len) (its last 4 bytes; least significant byte first, as on the wire). */
export function refreshEthernetFcs(buf: Buffer, at: number, len: number): void {
  buf.writeUInt32LE(crc32(buf, at, at + len - 4), at + len - 4);
}
