/** Classic libpcap: the 24-byte file header and the 16-byte record headers that follow it. */
import { pcapFcsBytes } from './fcs.js';
import { CaptureError } from '../errors.js';
import { hex, i32, u16, u32 } from './bytes.js';
import { pcapRecordBound } from './limits.js';
import type { RecordParser, RecordSink } from './record-parser.js';
import { CaptureRecord, type CaptureInterface, type PcapFileHeader } from './types.js';

export const PCAP_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** The four magics as read big-endian from the first 4 bytes. */
export const PCAP_MAGIC = {
  US_LE: 0xd4c3b2a1,
  US_BE: 0xa1b2c3d4,
  NS_LE: 0x4d3cb2a1,
  NS_BE: 0xa1b23c4d,
  /** The "modified" (Kuznetzov) pcap: µs, 24-byte record headers. */
  MOD_LE: 0x34cdb2a1,
  MOD_BE: 0xa1b2cd34,
} as const;

/** Record header of the modified (Kuznetzov) pcap: the standard 16 bytes + ifindex(4), protocol(2), pkt_type(1), pad(1). */
export const PCAP_MODIFIED_RECORD_HEADER_BYTES = 24;
/**
 * The same magic's ss990915 variant (SuSE 6.3's tcpdump, `editcap -F suse6_3pcap`): 28-byte record
 * headers (+ cpu1, cpu2, pad[3]). Nothing in the file header tells them apart; Wireshark's libpcap
 * reader tries the 24-byte layout on the first records, then this one, and so does the parser.
 */
export const PCAP_SS990915_RECORD_HEADER_BYTES = 28;

export function isPcapMagic(first4BE: number): boolean {
  return (
    first4BE === PCAP_MAGIC.US_LE ||
    first4BE === PCAP_MAGIC.US_BE ||
    first4BE === PCAP_MAGIC.NS_LE ||
    first4BE === PCAP_MAGIC.NS_BE ||
    first4BE === PCAP_MAGIC.MOD_LE ||
    first4BE === PCAP_MAGIC.MOD_BE
  );
}

/** Parses the file header; `buf` holds at least the first 24 bytes of the input. */
export function parsePcapHeader(buf: Buffer, file: string): PcapFileHeader {
  const magic = u32(buf, 0, false);
  if (!isPcapMagic(magic)) {
    throw new CaptureError('E_CAPTURE_BAD_MAGIC', `not a pcap file (magic ${hex(buf, 0, 4)})`, { file, offset: 0 });
  }
  const le = magic === PCAP_MAGIC.US_LE || magic === PCAP_MAGIC.NS_LE || magic === PCAP_MAGIC.MOD_LE;
  const modified = magic === PCAP_MAGIC.MOD_LE || magic === PCAP_MAGIC.MOD_BE;
  const nanosecond = magic === PCAP_MAGIC.NS_LE || magic === PCAP_MAGIC.NS_BE;
  const versionMajor = u16(buf, 4, le);
  const versionMinor = u16(buf, 6, le);
  if (versionMajor !== 2) {
    throw new CaptureError('E_CAPTURE_UNSUPPORTED', `pcap version ${versionMajor}.${versionMinor} is not supported (expected 2.x)`, {
      file,
      offset: 4,
    });
  }
  const linkTypeWord = u32(buf, 20, le);
  return {
    littleEndian: le,
    nanosecond,
    versionMajor,
    versionMinor,
    thisZone: i32(buf, 8, le),
    sigFigs: u32(buf, 12, le),
    snaplen: u32(buf, 16, le),
    linkTypeWord,
    linkType: linkTypeWord & 0xffff,
    ...(modified ? { modified } : {}),
  };
}

/** The single implicit interface of a classic pcap. */
export function pcapInterface(h: PcapFileHeader): CaptureInterface {
  return {
    index: 0,
    section: 0,
    linkType: h.linkType,
    snaplen: h.snaplen,
    tsResolutionBase: 10,
    tsResolutionExponent: h.nanosecond ? 9 : 6,
    tsOffsetSeconds: 0,
    name: null,
    description: null,
    rawOptions: null,
    littleEndian: h.littleEndian,
    fcsBytes: pcapFcsBytes(h.linkTypeWord),
  };
}

export class PcapRecordParser implements RecordParser {
  readonly format = 'pcap' as const;
  readonly unitName = 'record';
  packets = 0;
  truncatedRecords = 0;
  needed = PCAP_RECORD_HEADER_BYTES;
  private readonly le: boolean;
  /** Record header bytes: 16, or 24 / 28 in the modified (Kuznetzov) format. */
  private hdr: number;
  /** Modified format: the record header layout is chosen from the first records (chooseLayout). */
  private layoutOpen: boolean;
  /** Nanoseconds per stored fraction unit: 1 (ns magic) or 1000 (µs magic). */
  private readonly fracScale: number;
  private readonly bound: number;
  private readonly linkType: number;
  private readonly rec = new CaptureRecord();
  private readonly file: string;
  /** DataView over the current window buffer, remade only when the window is replaced (grown). */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | null = null;

  constructor(header: PcapFileHeader, file: string) {
    this.le = header.littleEndian;
    this.hdr = header.modified === true ? PCAP_MODIFIED_RECORD_HEADER_BYTES : PCAP_RECORD_HEADER_BYTES;
    this.layoutOpen = header.modified === true;
    this.needed = this.hdr;
    this.fracScale = header.nanosecond ? 1 : 1000;
    // Per link type, never from the header's snaplen (a crafted file could claim 2 GiB).
    this.bound = pcapRecordBound(header.linkType);
    this.linkType = header.linkType;
    this.file = file;
    this.rec.linkType = header.linkType;
    this.rec.timestampKnown = true; // every pcap record header stores a time
  }

  /**
   * The per-record loop: four 32-bit reads through a DataView (byte order fixed per file, which
   * V8 folds into the inlined read), one bound check, no allocation — the record is re-pointed at
   * the window with setBytes(), and `rec.data` is only made if the consumer asks for it.
   */
  parse(buf: Buffer, start: number, end: number, base: number, sink: RecordSink): number {
    if (this.viewOf !== buf) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.viewOf = buf;
    }
    const dv = this.view;
    if (this.layoutOpen) this.chooseLayout(dv, start, end);
    const le = this.le;
    const bound = this.bound;
    const fracScale = this.fracScale;
    const linkType = this.linkType;
    const rec = this.rec;
    const hdr = this.hdr;
    let packets = this.packets;
    let truncated = 0;
    let pos = start;
    while (pos + hdr <= end) {
      const caplen = dv.getUint32(pos + 8, le);
      if (caplen > bound) {
        this.packets = packets;
        this.truncatedRecords += truncated;
        throw this.tooLarge(caplen, base + pos + 8);
      }
      const next = pos + hdr + caplen;
      if (next > end) {
        this.needed = hdr + caplen;
        this.packets = packets;
        this.truncatedRecords += truncated;
        return pos;
      }
      const sec = dv.getUint32(pos, le);
      const frac = dv.getUint32(pos + 4, le);
      const origlen = dv.getUint32(pos + 12, le);
      rec.packetNumber = ++packets;
      rec.fileOffset = base + pos;
      rec.linkType = linkType;
      // Kept as stored (not normalised even if frac >= 1 s) so a writer reproduces it exactly.
      rec.tsSec = sec;
      rec.tsNsec = frac * fracScale;
      rec.tsRawHigh = sec;
      rec.tsRawLow = frac;
      rec.originalLength = origlen;
      rec.setBytes(buf, pos + hdr, caplen);
      if (caplen < origlen) truncated++;
      pos = next;
      sink.onRecord(rec);
      if (sink.stopped) break;
    }
    this.packets = packets;
    this.truncatedRecords += truncated;
    this.needed = hdr;
    return pos;
  }

  /**
   * Modified magic: 24-byte record headers unless the first two records (as far as the window
   * holds them) only make sense with 28 (SuSE 6.3). Before, such a file failed at its second
   * record with E_CAPTURE_RECORD_TOO_LARGE, while tshark reads it.
   */
  private chooseLayout(dv: DataView, start: number, end: number): void {
    this.layoutOpen = false;
    const le = this.le;
    const plausible = (hdr: number): boolean => {
      let pos = start;
      for (let k = 0; k < 2 && pos + hdr <= end; k++) {
        const caplen = dv.getUint32(pos + 8, le);
        // µs timestamps; libpcap never stores more bytes than the packet had.
        if (caplen > this.bound || caplen > dv.getUint32(pos + 12, le) || dv.getUint32(pos + 4, le) >= 1_000_000) return false;
        pos += hdr + caplen;
      }
      return true;
    };
    if (!plausible(PCAP_MODIFIED_RECORD_HEADER_BYTES) && plausible(PCAP_SS990915_RECORD_HEADER_BYTES)) {
      this.hdr = PCAP_SS990915_RECORD_HEADER_BYTES;
      this.needed = this.hdr;
    }
  }

  private tooLarge(caplen: number, offset: number): CaptureError {
    // Failing at once on a standard-magic file is the mark of a patched libpcap's longer record
    // headers (Red Hat 6.1, Nokia IPSO), which tshark reads by trial and we do not.
    const hint =
      this.packets < 2 && this.hdr === PCAP_RECORD_HEADER_BYTES
        ? '; if the capture was written by a patched libpcap (Red Hat 6.1, Nokia IPSO: longer record headers under the standard magic), convert it first: editcap -F pcap IN OUT'
        : '';
    return new CaptureError(
      'E_CAPTURE_RECORD_TOO_LARGE',
      `corrupt pcap record: captured length ${caplen} exceeds the largest packet of link type ${this.linkType} (${this.bound} bytes)${hint}`,
      { file: this.file, offset },
    );
  }
}
