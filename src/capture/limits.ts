/**
 * Bounds on lengths read from a capture. A length beyond them is a corrupt file
 * (E_CAPTURE_RECORD_TOO_LARGE, at the length field's byte offset), checked before the reader
 * buffers a byte of the unit, so a hostile or damaged input cannot make us allocate that much.
 *
 * Packets are bounded per link type, as libpcap (pcap-common.c, max_snaplen_for_dlt) and
 * Wireshark (wtap.h, WTAP_MAX_PACKET_SIZE_*) do it: 262144 bytes for every link type but the few
 * whose packets are legitimately larger. The file's own snaplen plays no part (a crafted header
 * could claim 2 GiB). The read window holds one unit whole, so the largest unit accepted is also
 * the most a file can make the reader buffer: 1.25 MiB for Ethernet, raw IP, SLL and the like.
 */

/** libpcap's MAXIMUM_SNAPLEN and Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD: the packet bound of every other link type. */
export const LIBPCAP_MAX_SNAPLEN = 0x40000;

/** Link types (LINKTYPE_* numbers, as stored in files) whose packets may exceed 262144 bytes. */
export const LARGE_PACKET_LINK_TYPES: ReadonlyMap<number, number> = new Map([
  // LINKTYPE_DBUS: a D-Bus message may be 128 MiB (libpcap and Wireshark agree).
  [231, 128 * 1024 * 1024],
  // LINKTYPE_USBPCAP: Wireshark allows 128 MiB (issue 15985; libpcap 1 MiB): the larger, so
  // nothing Wireshark reads is refused.
  [249, 128 * 1024 * 1024],
  // LINKTYPE_EBHSCR: 8 MiB (libpcap and Wireshark).
  [279, 8 * 1024 * 1024],
]);

/** Largest captured length of one packet on `linkType` (the low 16 bits of a pcap link-type word). */
export function maxPacketBytes(linkType: number): number {
  return LARGE_PACKET_LINK_TYPES.get(linkType & 0xffff) ?? LIBPCAP_MAX_SNAPLEN;
}

/** Largest caplen accepted for a classic pcap record: the link type's packet bound, whatever the snaplen. */
export function pcapRecordBound(linkType: number): number {
  return maxPacketBytes(linkType);
}

/**
 * Room for a pcapng packet block's options (comments, flags, hashes, verdicts, packet ids) on top
 * of its packet: generous for real files (dumpcap writes a few dozen bytes), small enough that a
 * block cannot make the reader buffer much.
 */
export const MAX_PACKET_OPTIONS_BYTES = 1024 * 1024;

/** EPB/PB header before the packet bytes (28) + padding (up to 3) + trailer (4). */
const PACKET_BLOCK_FRAME_BYTES = 28 + 3 + 4;

/** Largest pcapng EPB/PB/SPB total length on an interface of `linkType`: its packet bound plus framing and options. */
export function pcapngPacketBlockBound(linkType: number): number {
  return maxPacketBytes(linkType) + PACKET_BLOCK_FRAME_BYTES + MAX_PACKET_OPTIONS_BYTES;
}

/**
 * Largest pcapng block that carries no packet (SHB, IDB, NRB, ISB, DSB, custom, unknown) the reader
 * buffers whole (a writer copies it to OUT): 8 MiB holds some 40 000 TLS key-log lines in a DSB or
 * 200 000 names in an NRB, and keeps peak RSS near 70 MB. Beyond it an SHB or IDB (parsed, so
 * needed whole) is refused as corrupt; any other block is passed over unbuffered when its framing
 * holds (Wireshark allows 128 MiB: such blocks are legitimate), reported as a SkippedBlock, and so
 * left out of OUT (native-notes/capture-formats.md, "Bounds").
 */
export const MAX_OTHER_BLOCK_BYTES = 8 * 1024 * 1024;

/** Read window for streamed input (stdin, pipes, gunzip): large enough that per-chunk work does not matter. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Room in front of each read-ahead buffer for the record cut by a chunk boundary: any pcap record
 * up to libpcap's largest snaplen (plus its header) fits; longer ones take the slower window path.
 */
export const READ_AHEAD_RESERVE_BYTES = 2 * LIBPCAP_MAX_SNAPLEN;

/**
 * Chunk reads kept in flight on the thread pool while the parser works (each in its own buffer):
 * they keep the pool's two threads (thread-pool.ts) copying out of the page cache while the main
 * thread parses; three in flight on two threads measured fastest (0.12 s for the 1.1 GB bench
 * capture, against 0.13 s with two and 0.13 s with four).
 */
export const READ_AHEAD_DEPTH = 3;

/** Chunk of one read-ahead read: 1-4 MiB measured equally fast (8 MiB slower); the smaller keeps RSS low. */
export const READ_AHEAD_CHUNK_BYTES = 2 * 1024 * 1024;
