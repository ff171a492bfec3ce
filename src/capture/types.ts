/**
 * The contract between capture readers/writers and the rest of the pipeline.
 *
 * Readers are push-style and synchronous inside: they call `onRecord` for every record with ONE
 * reused CaptureRecord whose bytes are `buffer[offset, offset + captureLength)` — the reader's own
 * window, no per-record allocation. `data` is the same bytes as a Buffer view, made on first access
 * (so consumers that use buffer/offset never pay for it). The record is valid only during the call:
 * anything kept longer must be copied (Buffer.from(rec.data)).
 */

export type CaptureFormat = 'pcap' | 'pcapng';

/** Classic libpcap global header, kept so a writer can reproduce the input byte for byte. */
export interface PcapFileHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  /** The two legacy fields (thiszone, sigfigs), written back as read. */
  thisZone: number;
  sigFigs: number;
  snaplen: number;
  /** Full 32-bit link-type word (FCS bits included); `linkType` below is its low 16 bits. */
  linkTypeWord: number;
  linkType: number;
  /**
   * The "modified" (Kuznetzov, patched-libpcap) variant, magic a1b2cd34: µs timestamps and 8 more
   * bytes per record header (ifindex, protocol, pkt_type, pad), which the reader skips. Writers
   * write the standard format instead (as `editcap -F pcap`). Absent = standard.
   */
  modified?: boolean;
}

/** One capture interface: the single implicit one of a pcap, or a pcapng IDB. */
export interface CaptureInterface {
  /** Global index over the whole input (pcapng sections renumber; this does not). */
  index: number;
  /** pcapng section number (0-based); 0 for pcap. */
  section: number;
  linkType: number;
  snaplen: number;
  /** if_tsresol as units per second divisor: base 10 or 2 and exponent (default 10^-6). */
  tsResolutionBase: 10 | 2;
  tsResolutionExponent: number;
  /** if_tsoffset seconds (0 if absent). */
  tsOffsetSeconds: number;
  name: string | null;
  description: string | null;
  /** The IDB's option bytes as read (without opt_endofopt), to copy into a pcapng writer. */
  rawOptions: Buffer | null;
  /** Byte order of the section the IDB came from. */
  littleEndian: boolean;
  /**
   * Bytes of Frame Check Sequence at the end of every frame (pcap link-type FCS bits, pcapng
   * if_fcslen; fcs.ts); absent or 0 = none. A writer recomputes an edited Ethernet frame's FCS.
   */
  fcsBytes?: number;
}

const EMPTY_BUFFER = Buffer.alloc(0);

export class CaptureRecord {
  /** 1-based position of this record among the packet records of the input. */
  packetNumber = 0;
  /** Byte offset of the record (or block) header in the decompressed input. */
  fileOffset = 0;
  /** Global interface index (see CaptureInterface.index). */
  interfaceIndex = 0;
  linkType = 0;
  /** Wall-clock timestamp in seconds + nanoseconds since the epoch (tsoffset applied). */
  tsSec = 0;
  tsNsec = 0;
  /**
   * False when the input stores no time for this packet (a pcapng Simple Packet Block): tsSec/tsNsec
   * then repeat the previous packet's time in its section (0 if there is none), so order and flow
   * timing stay sane, but the time is not the packet's own and first/last-time reports leave it out.
   * True for pcap records, EPB/PB and live packets.
   */
  timestampKnown = true;
  /**
   * The timestamp as stored: pcap = (seconds, fraction in us or ns); pcapng EPB = (high, low) of the
   * 64-bit count in the interface's resolution. Writers of the same format copy these unchanged.
   */
  tsRawHigh = 0;
  tsRawLow = 0;
  captureLength = 0;
  originalLength = 0;
  /**
   * The buffer holding the captured bytes at [offset, offset + captureLength). For file readers it
   * is the read window, much larger than the record: never use buffer.length as the record's end.
   * Valid only during the onRecord call (the window is refilled after it).
   */
  buffer: Buffer = EMPTY_BUFFER;
  offset = 0;
  /** The `data` view once made for the current record; null until first asked for. */
  private view: Buffer | null = EMPTY_BUFFER;
  /** pcapng opt_comment values of this packet, or null. */
  comments: string[] | null = null;
  /** pcapng epb_flags (0 when absent or pcap). */
  epbFlags = 0;
  /**
   * pcapng: the whole packet block (EPB, SPB or PB, header to trailer) the record was read from is
   * buffer[blockOffset, blockOffset + blockLength), in its section's byte order; blockLength 0 for
   * pcap and live records. Lets a pcapng writer copy an unmodified packet's block byte for byte.
   */
  blockOffset = 0;
  blockLength = 0;
  /** True when the capture cut the packet (captureLength < originalLength). */
  get truncated(): boolean {
    return this.captureLength < this.originalLength;
  }

  /**
   * The captured bytes (captureLength long) as a view over `buffer`, made on first access for this
   * record and cached until the record is re-pointed. Valid only during the onRecord call.
   */
  get data(): Buffer {
    let v = this.view;
    if (v === null) {
      v = this.buffer.subarray(this.offset, this.offset + this.captureLength);
      this.view = v;
    }
    return v;
  }

  /** Points the record at `bytes` as a whole (buffer = bytes, offset 0, captureLength = its length). */
  set data(bytes: Buffer) {
    this.buffer = bytes;
    this.offset = 0;
    this.captureLength = bytes.length;
    this.view = bytes;
  }

  /** Re-points the record at buffer[offset, offset + length) without making a view (readers' hot path). */
  setBytes(buffer: Buffer, offset: number, length: number): void {
    this.buffer = buffer;
    this.offset = offset;
    this.captureLength = length;
    this.view = null;
  }
}

/**
 * A pcapng block that carries no packet (SHB, IDB, NRB, ISB, DSB, custom, unknown), as read:
 * buffer[offset, offset + length), in its section's byte order. Delivered through
 * CaptureSource.run's onBlock in file order, before the records that follow it (an IDB before
 * its onInterface). One reused object, valid only during the call.
 */
export class CaptureBlock {
  type = 0;
  buffer: Buffer = EMPTY_BUFFER;
  offset = 0;
  length = 0;
  littleEndian = true;
  /** Section number (0-based) the block belongs to (an SHB: the section it starts). */
  section = 0;
  /** Byte offset of the block in the decompressed input. */
  fileOffset = 0;
  /** For an IDB: the interface it describes; otherwise null. */
  iface: CaptureInterface | null = null;
}

/**
 * A pcapng block that carries no packet (NRB, ISB, DSB, custom, unknown; never an SHB or IDB)
 * larger than the reader buffers (limits.ts MAX_OTHER_BLOCK_BYTES): its framing was checked (the
 * trailing length equals the leading one) and its bytes were passed over, not read into memory, so
 * it does not reach onBlock and a writer following the input cannot copy it.
 */
export interface SkippedBlock {
  type: number;
  /** Byte offset of the block in the decompressed input. */
  fileOffset: number;
  /** Its total length (header to trailer). */
  length: number;
  littleEndian: boolean;
  section: number;
}

export interface ReadStats {
  format: CaptureFormat;
  packets: number;
  /** Bytes of the (decompressed) input consumed. */
  bytes: number;
  truncatedRecords: number;
  /** pcapng blocks passed over unbuffered (see SkippedBlock) and their bytes; absent means 0. */
  skippedBlocks?: number;
  skippedBlockBytes?: number;
  /**
   * pcapng blocks that Wireshark shows as frames of their own although they carry no packet
   * (custom blocks 0xBAD/0x40000BAD, systemd journal export blocks); absent means 0. Packet
   * numbers count them too, so a packet's number is its frame number in Wireshark and tshark.
   */
  otherFrames?: number;
}

export interface CaptureSource {
  /** The path as given ('-' for stdin), used in error messages. */
  readonly path: string;
  readonly format: CaptureFormat;
  readonly gzip: boolean;
  /** Classic pcap global header, or null for pcapng. */
  readonly pcapHeader: PcapFileHeader | null;
  /** Interfaces seen so far (pcapng IDBs appear as the file is read). */
  readonly interfaces: readonly CaptureInterface[];
  /**
   * Byte order of the input as stored: the pcap header's, or the first pcapng section header's
   * (set as soon as run() has read that SHB, interfaces or not; null before, or when the input
   * holds no complete SHB). Live sources: their pcap header's.
   */
  readonly littleEndian: boolean | null;
  /**
   * Sub-second decimal digits of the finest interface resolution seen so far (pcap: 6 or 9;
   * pcapng: from if_tsresol, at most 9). Null while there is no interface (a pcapng section header
   * with no IDB): the precision is unknown, which is not 0 digits.
   */
  readonly timePrecisionDigits: number | null;
  /**
   * Delivers every record in order. Resolves at a clean end of input. On a truncated or corrupt
   * input it rejects with a CaptureError (code, file, byte offset) AFTER every record before the
   * fault has been delivered. `onInterface` is called when a new interface appears (before its
   * first packet). `onRelease` is called after each batch of records, before the buffer they
   * pointed into can be refilled: a consumer that kept references to record bytes past onRecord
   * (a writer holding runs of records, PacketWriter.releaseInput) writes or copies them there.
   * `onBlock` (pcapng only) receives every block that is not a packet, in file order (see CaptureBlock),
   * except those too large to buffer: they go to `onSkippedBlock` instead, once passed over (see
   * SkippedBlock; one reused object, valid only during the call).
   */
  run(
    onRecord: (rec: CaptureRecord) => void,
    onInterface?: (iface: CaptureInterface) => void,
    onRelease?: () => void,
    onBlock?: (block: CaptureBlock) => void,
    onSkippedBlock?: (block: SkippedBlock) => void,
  ): Promise<ReadStats>;
  /** Stop after the current record (SIGINT). run() then resolves normally. */
  stop(): void;
}

/** What a writer needs of a packet; CaptureRecord satisfies it. */
export interface WritablePacket {
  interfaceIndex: number;
  tsSec: number;
  tsNsec: number;
  tsRawHigh: number;
  tsRawLow: number;
  originalLength: number;
  data: Buffer;
  /** pcapng epb_flags to write (direction, reception type...); optional, 0 or absent = none. */
  epbFlags?: number;
  /**
   * Optional zero-copy source: when `buffer` is set, the packet's bytes are
   * buffer[offset, offset + captureLength) and writers copy from there without asking for `data`
   * (CaptureRecord and the pipeline's entries provide it, so no per-packet view is made).
   */
  buffer?: Buffer;
  offset?: number;
  captureLength?: number;
  /**
   * True when `buffer` is the capture reader's own buffer (a record straight from the reader, not
   * a copy): a writer that holds such bytes past write() must let go of them at the reader's
   * release (CaptureSource.run's onRelease, PacketWriter.releaseInput).
   */
  fromInput?: boolean;
  /**
   * True when the packet's bytes were edited (the pipeline's entries say so): a pcapng writer then
   * recomputes or leaves out the block's epb_hash options, which no longer describe the bytes
   * (pcapng-hash.ts). Absent = unedited.
   */
  modified?: boolean;
  /**
   * True for a packet the pipeline made (a reset), not read: its bytes end with the IP datagram. On
   * an Ethernet interface whose frames carry an FCS, a writer pads it to the 60-byte minimum and
   * appends one (fcs.ts), as a NIC transmits it. Absent = read.
   */
  synthesized?: boolean;
  /**
   * pcapng: when blockLength > 0, buffer[blockOffset, blockOffset + blockLength) is the packet block
   * the packet was read from (its section's byte order), with the packet's bytes — possibly edited
   * in place, same length — at [offset, offset + captureLength). A pcapng writer then keeps the
   * block (options, type) instead of re-encoding it.
   */
  blockOffset?: number;
  blockLength?: number;
}

export interface PacketWriter {
  /**
   * Writes one record whole (never a partial record, so an interrupted run leaves a valid file).
   * `comments` only matter for pcapng. Throws OutputError on I/O failure (EPIPE, ENOSPC).
   */
  write(pkt: WritablePacket, comments?: readonly string[] | null): void;
  /**
   * Writes out anything still referring to the reader's buffers (writers made with
   * `holdInputRuns`): call it from CaptureSource.run's onRelease. A no-op for other writers.
   */
  releaseInput?(): void;
  /**
   * Writes every record buffered so far to the destination now (whole records only). Live capture
   * calls it after each batch so a reader of the file sees packets as they are captured; replay
   * never does (its big buffered writes are the fast path).
   */
  flush?(): void;
  /** Flushes buffered records and closes the destination (not stdout's fd). */
  close(): Promise<void>;
  /** Records written so far. */
  readonly count: number;
}
