/**
 * pcapng (draft-ietf-opsawg-pcapng): sections in either byte order, interfaces with their own link
 * type, resolution and offset, and the three packet blocks (EPB, SPB, obsolete PB). Blocks that
 * carry no packets (SHB, IDB, NRB, ISB, DSB, custom, unknown) go to the sink's onBlock as they are
 * (a writer that keeps the input's structure copies them); readers without onBlock skip them.
 * Packet records carry their block's position (blockOffset/blockLength) for the same reason.
 * One of those blocks (not an SHB or IDB: they must be parsed) larger than MAX_OTHER_BLOCK_BYTES is
 * passed over without being buffered: its bytes are consumed as they arrive, its trailing length is
 * checked, and it goes to onSkippedBlock instead of onBlock (limits.ts says why).
 */
import { ifFcsBytes } from './fcs.js';
import { CaptureError } from '../errors.js';
import { hex, i64, u16, u32 } from './bytes.js';
import { MAX_OTHER_BLOCK_BYTES, maxPacketBytes, pcapngPacketBlockBound } from './limits.js';
import type { PassingUnit, RecordParser, RecordSink } from './record-parser.js';
import { TsConverter } from './timestamp.js';
import { CaptureBlock, CaptureRecord, type CaptureInterface, type SkippedBlock } from './types.js';

export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
  /** systemd Journal Export Block: one journal entry (Wireshark shows it as a frame). */
  SJE: 0x00000009,
  /** Custom blocks (copiable / not to be copied by editors). */
  CB_COPY: 0x00000bad,
  CB_NOCOPY: 0x40000bad,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Blocks carrying no packet that Wireshark shows as frames (numbered with the packets). */
export function isFrameBlock(type: number): boolean {
  return type === BlockType.CB_COPY || type === BlockType.CB_NOCOPY || type === BlockType.SJE;
}

const BLOCK_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [BlockType.SHB, 'Section Header Block'],
  [BlockType.IDB, 'Interface Description Block'],
  [BlockType.NRB, 'Name Resolution Block'],
  [BlockType.ISB, 'Interface Statistics Block'],
  [BlockType.DSB, 'Decryption Secrets Block'],
  [BlockType.SJE, 'systemd Journal Export Block'],
  [BlockType.CB_COPY, 'Custom Block'],
  [BlockType.CB_NOCOPY, 'Custom Block'],
]);

/** The spec's name for a block type, for messages. */
export function blockTypeName(type: number): string {
  return BLOCK_TYPE_NAMES.get(type) ?? 'block of unknown type';
}

export const OptionCode = {
  END: 0,
  COMMENT: 1,
  /** if_name / epb_flags / pack_flags share code 2; meaning depends on the block. */
  IF_NAME: 2,
  EPB_FLAGS: 2,
  IF_DESCRIPTION: 3,
  SHB_USERAPPL: 4,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
  IF_FCSLEN: 13,
} as const;

const BLOCK_MIN = 12;
const SHB_MIN = 28;
const IDB_MIN = 20;
const EPB_MIN = 32;
const SPB_MIN = 16;

/** An interface of the current section with its timestamp converter. */
interface SectionInterface {
  iface: CaptureInterface;
  conv: TsConverter;
  /** Largest packet of its link type (limits.ts) and the largest packet block that may carry it. */
  maxPacket: number;
  maxBlock: number;
}

/** A block being passed over (too large to buffer): where it is and how much of it is still to come. */
interface Skip {
  block: SkippedBlock;
  /** Bytes before its trailer not consumed yet. */
  left: number;
}

export function pad4(n: number): number {
  return (n + 3) & ~3;
}

export class PcapngBlockParser implements RecordParser {
  readonly format = 'pcapng' as const;
  readonly unitName = 'block';
  packets = 0;
  truncatedRecords = 0;
  needed = BLOCK_MIN;
  /** Blocks passed over without being buffered (larger than MAX_OTHER_BLOCK_BYTES), and their bytes. */
  skippedBlocks = 0;
  skippedBlockBytes = 0;
  /**
   * Blocks without a packet that Wireshark nevertheless reads as frames (wiretap returns them as
   * records: custom blocks, systemd journal entries) and numbers with the packets. Packet numbers
   * count them, so packet N is frame N in Wireshark/tshark, as the verdicts promise.
   */
  otherFrames = 0;
  private skip: Skip | null = null;
  /** Every interface seen so far, indexed by CaptureInterface.index (shared with the source). */
  readonly interfaces: CaptureInterface[];
  private le = true;
  private section = -1;
  /** Byte order of the first section header, once read (CaptureSource.littleEndian). */
  firstSectionLittleEndian: boolean | null = null;
  private sectionIfaces: SectionInterface[] = [];
  private readonly rec = new CaptureRecord();
  /** Length of the packet block being delivered (for rec.blockLength). */
  private blockLen = 0;
  private readonly block = new CaptureBlock();
  /**
   * Wall time of the last packet read in the current section (and whether there was one): an SPB
   * stores no time, so its record repeats this one (timestampKnown false) rather than 1970.
   */
  private lastSec = 0;
  private lastNsec = 0;
  private readonly spbRaw = { high: 0, low: 0 };
  private readonly file: string;
  /** DataView over the current window buffer, remade only when the window is replaced (grown). */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | null = null;

  constructor(file: string, interfaces: CaptureInterface[]) {
    this.file = file;
    this.interfaces = interfaces;
  }

  private corrupt(message: string, offset: number): CaptureError {
    return new CaptureError('E_CAPTURE_CORRUPT', `corrupt pcapng: ${message}`, { file: this.file, offset });
  }

  parse(buf: Buffer, start: number, end: number, base: number, sink: RecordSink): number {
    if (this.viewOf !== buf) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.viewOf = buf;
    }
    const dv = this.view;
    let pos = start;
    for (;;) {
      if (this.skip !== null) {
        pos = this.passOver(dv, pos, end, base, sink);
        if (this.skip !== null) return pos;
      }
      if (pos + BLOCK_MIN > end) break;
      let le = this.le;
      const type = dv.getUint32(pos, le); // SHB's type reads the same in both orders
      if (type === BlockType.SHB) {
        const bom = dv.getUint32(pos + 8, true);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else throw this.corrupt(`section header byte-order magic ${hex(buf, pos + 8, pos + 12)} is invalid`, base + pos + 8);
      } else if (this.section < 0) {
        throw new CaptureError('E_CAPTURE_BAD_MAGIC', `not a pcapng file: first block type is 0x${type.toString(16)}, not a section header`, {
          file: this.file,
          offset: base + pos,
        });
      }
      const len = dv.getUint32(pos + 4, le);
      // Bounded before anything is buffered: a packet block by its interface's link type (so its
      // interface must exist, known from the 12 bytes present), any other block by a flat bound.
      let si: SectionInterface | null = null;
      if (type === BlockType.EPB || type === BlockType.PB || type === BlockType.SPB) {
        const id = type === BlockType.EPB ? dv.getUint32(pos + 8, le) : type === BlockType.PB ? dv.getUint16(pos + 8, le) : 0;
        si = this.sectionInterface(id, pos, base);
        if (len > si.maxBlock) throw this.tooLarge(`packet block length ${len} exceeds the bound of ${si.maxBlock} bytes for link type ${si.iface.linkType} (packets up to ${si.maxPacket} bytes plus options)`, base + pos + 4);
      } else if (len > MAX_OTHER_BLOCK_BYTES && (type === BlockType.SHB || type === BlockType.IDB)) {
        // Parsed for what follows (byte order, interfaces), so read whole: bounded.
        throw this.tooLarge(`${type === BlockType.SHB ? 'section header' : 'interface description'} block length ${len} exceeds the bound of ${MAX_OTHER_BLOCK_BYTES} bytes`, base + pos + 4);
      }
      if (len < BLOCK_MIN || len % 4 !== 0) {
        throw this.corrupt(`block length ${len} is invalid (must be at least 12 and a multiple of 4)`, base + pos + 4);
      }
      if (si === null && len > MAX_OTHER_BLOCK_BYTES) {
        // Too large to buffer, needed by nothing we parse: passed over as its bytes arrive.
        this.skip = {
          block: { type, fileOffset: base + pos, length: len, littleEndian: le, section: this.section },
          left: len - 4,
        };
        continue;
      }
      if (pos + len > end) {
        this.needed = len;
        return pos;
      }
      const trailer = dv.getUint32(pos + len - 4, le);
      if (trailer !== len) {
        throw this.corrupt(`trailing block length ${trailer} differs from the leading ${len}`, base + pos + len - 4);
      }
      let delivered = false;
      switch (type) {
        case BlockType.SHB:
          this.readSectionHeader(buf, pos, len, le, base);
          if (sink.onBlock) this.deliverBlock(buf, pos, len, type, base, null, sink);
          break;
        case BlockType.IDB:
          this.readInterface(buf, pos, len, base, sink);
          break;
        case BlockType.EPB:
        case BlockType.PB:
          this.readPacket(dv, buf, pos, len, base, si!, sink);
          delivered = true;
          break;
        case BlockType.SPB:
          this.readSimplePacket(buf, pos, len, base, si!, sink);
          delivered = true;
          break;
        default:
          // NRB, ISB, DSB, custom and unknown blocks carry no packets
          if (isFrameBlock(type)) this.otherFrames++;
          if (sink.onBlock) this.deliverBlock(buf, pos, len, type, base, null, sink);
          break;
      }
      pos += len;
      if (delivered && sink.stopped) return pos;
    }
    this.needed = BLOCK_MIN;
    return pos;
  }

  /** The block being passed over, for an input that ends inside it (E_CAPTURE_TRUNCATED at its start). */
  get passing(): PassingUnit | null {
    const k = this.skip;
    return k === null ? null : { offset: k.block.fileOffset, length: k.block.length, consumed: k.block.length - 4 - k.left };
  }

  /**
   * Consumes what is present of the block being passed over, then checks its trailing length (the
   * framing rule every block must keep) and reports it. Returns the new position; `skip` stays set
   * while more of the block is to come, and the bytes of an incomplete trailer are left in place.
   */
  private passOver(dv: DataView, pos: number, end: number, base: number, sink: RecordSink): number {
    const k = this.skip!;
    const take = Math.min(k.left, end - pos);
    k.left -= take;
    pos += take;
    if (k.left > 0 || pos + 4 > end) {
      this.needed = k.left > 0 ? BLOCK_MIN : 4;
      return pos;
    }
    const b = k.block;
    const trailer = dv.getUint32(pos, b.littleEndian);
    if (trailer !== b.length) throw this.corrupt(`trailing block length ${trailer} differs from the leading ${b.length}`, base + pos);
    this.skip = null;
    if (isFrameBlock(b.type)) this.otherFrames++;
    this.skippedBlocks++;
    this.skippedBlockBytes += b.length;
    sink.onSkippedBlock?.(b);
    return pos + 4;
  }

  private tooLarge(message: string, offset: number): CaptureError {
    return new CaptureError('E_CAPTURE_RECORD_TOO_LARGE', `corrupt pcapng: ${message}`, { file: this.file, offset });
  }

  private deliverBlock(buf: Buffer, pos: number, len: number, type: number, base: number, iface: CaptureInterface | null, sink: RecordSink): void {
    const b = this.block;
    b.type = type;
    b.buffer = buf;
    b.offset = pos;
    b.length = len;
    b.littleEndian = this.le;
    b.section = this.section;
    b.fileOffset = base + pos;
    b.iface = iface;
    sink.onBlock?.(b);
    b.iface = null;
  }

  private readSectionHeader(buf: Buffer, pos: number, len: number, le: boolean, base: number): void {
    if (len < SHB_MIN) throw this.corrupt(`section header block of ${len} bytes is too short`, base + pos + 4);
    const major = u16(buf, pos + 12, le);
    const minor = u16(buf, pos + 14, le);
    if (major !== 1) {
      throw new CaptureError('E_CAPTURE_UNSUPPORTED', `pcapng version ${major}.${minor} is not supported (expected 1.x)`, {
        file: this.file,
        offset: base + pos + 12,
      });
    }
    this.le = le;
    this.section++;
    if (this.section === 0) this.firstSectionLittleEndian = le;
    this.sectionIfaces = [];
    this.lastSec = 0;
    this.lastNsec = 0;
  }

  private readInterface(buf: Buffer, pos: number, len: number, base: number, sink: RecordSink): void {
    const le = this.le;
    if (len < IDB_MIN) throw this.corrupt(`interface description block of ${len} bytes is too short`, base + pos + 4);
    let tsBase: 10 | 2 = 10;
    let tsExp = 6;
    let tsOffset = 0;
    let name: string | null = null;
    let description: string | null = null;
    let fcsLen = 0;
    const optStart = pos + 16;
    const optEnd = pos + len - 4;
    let p = optStart;
    while (p + 4 <= optEnd) {
      const code = u16(buf, p, le);
      const olen = u16(buf, p + 2, le);
      if (code === OptionCode.END) break;
      const v = p + 4;
      if (v + olen > optEnd) throw this.corrupt(`interface option ${code} of ${olen} bytes overruns its block`, base + p);
      if (code === OptionCode.IF_TSRESOL && olen >= 1) {
        const r = buf[v]!;
        tsBase = r & 0x80 ? 2 : 10;
        tsExp = r & 0x7f;
      } else if (code === OptionCode.IF_TSOFFSET && olen >= 8) {
        tsOffset = i64(buf, v, le);
      } else if (code === OptionCode.IF_NAME) {
        name = buf.toString('utf8', v, v + olen);
      } else if (code === OptionCode.IF_DESCRIPTION) {
        description = buf.toString('utf8', v, v + olen);
      } else if (code === OptionCode.IF_FCSLEN && olen >= 1) {
        fcsLen = buf[v]!;
      }
      p = v + pad4(olen);
    }
    const linkType = u16(buf, pos + 8, le);
    const iface: CaptureInterface = {
      index: this.interfaces.length,
      section: this.section,
      linkType,
      snaplen: u32(buf, pos + 12, le),
      tsResolutionBase: tsBase,
      tsResolutionExponent: tsExp,
      tsOffsetSeconds: tsOffset,
      name,
      description,
      // Copied: the interface outlives the read buffer.
      rawOptions: p > optStart ? Buffer.from(buf.subarray(optStart, Math.min(p, optEnd))) : null,
      littleEndian: le,
      fcsBytes: ifFcsBytes(linkType, fcsLen),
    };
    this.interfaces.push(iface);
    this.sectionIfaces.push({
      iface,
      conv: new TsConverter(tsBase, tsExp, tsOffset),
      maxPacket: maxPacketBytes(iface.linkType),
      maxBlock: pcapngPacketBlockBound(iface.linkType),
    });
    if (sink.onBlock) this.deliverBlock(buf, pos, len, BlockType.IDB, base, iface, sink);
    sink.onInterface?.(iface);
  }

  private sectionInterface(id: number, pos: number, base: number): SectionInterface {
    const si = this.sectionIfaces[id];
    if (si === undefined) {
      throw this.corrupt(`packet refers to interface ${id} but section ${this.section} has ${this.sectionIfaces.length}`, base + pos + 8);
    }
    return si;
  }

  /**
   * EPB and the obsolete PB share the layout after the interface id (PB: 16-bit id + drops).
   * Hot path: DataView reads, the record re-pointed at the window (no view made), and the option
   * walk allocates only for a comment that is actually present.
   */
  private readPacket(dv: DataView, buf: Buffer, pos: number, len: number, base: number, si: SectionInterface, sink: RecordSink): void {
    const le = this.le;
    if (len < EPB_MIN) throw this.corrupt(`packet block of ${len} bytes is too short`, base + pos + 4);
    const caplen = dv.getUint32(pos + 20, le);
    if (caplen > si.maxPacket) {
      throw this.tooLarge(`captured length ${caplen} exceeds the largest packet of link type ${si.iface.linkType} (${si.maxPacket} bytes)`, base + pos + 20);
    }
    const dataStart = pos + 28;
    const optStart = dataStart + pad4(caplen);
    const optEnd = pos + len - 4;
    if (caplen > len || optStart > optEnd) {
      throw this.corrupt(`captured length ${caplen} does not fit in a block of ${len} bytes`, base + pos + 20);
    }
    const rec = this.rec;
    rec.comments = null;
    rec.epbFlags = 0;
    this.blockLen = len;
    // Most EPBs carry no options (optStart === optEnd) or only opt_endofopt.
    if (optStart + 4 <= optEnd) this.readPacketOptions(dv, buf, optStart, optEnd, base, rec);
    const high = dv.getUint32(pos + 12, le);
    const low = dv.getUint32(pos + 16, le);
    this.fill(rec, si, buf, pos, base, dataStart, caplen, dv.getUint32(pos + 24, le));
    si.conv.toWall(high, low, rec);
    rec.tsRawHigh = high;
    rec.tsRawLow = low;
    rec.timestampKnown = true;
    this.lastSec = rec.tsSec;
    this.lastNsec = rec.tsNsec;
    sink.onRecord(rec);
  }

  private readPacketOptions(dv: DataView, buf: Buffer, optStart: number, optEnd: number, base: number, rec: CaptureRecord): void {
    const le = this.le;
    let p = optStart;
    while (p + 4 <= optEnd) {
      const code = dv.getUint16(p, le);
      const olen = dv.getUint16(p + 2, le);
      if (code === OptionCode.END) break;
      const v = p + 4;
      if (v + olen > optEnd) throw this.corrupt(`packet option ${code} of ${olen} bytes overruns its block`, base + p);
      if (code === OptionCode.COMMENT) {
        (rec.comments ??= []).push(buf.toString('utf8', v, v + olen));
      } else if (code === OptionCode.EPB_FLAGS && olen >= 4) {
        rec.epbFlags = dv.getUint32(v, le);
      }
      p = v + pad4(olen);
    }
  }

  /**
   * SPB: implicitly interface 0 of the section, no timestamp; captured length = min(original, snaplen).
   * Its record takes the previous packet's time in the section (0 when it is the first), with the
   * stored form in interface 0's resolution to match (so a packet synthesised "just after" it, like
   * a reset, lands after it too), and timestampKnown false.
   */
  private readSimplePacket(buf: Buffer, pos: number, len: number, base: number, si: SectionInterface, sink: RecordSink): void {
    const le = this.le;
    if (len < SPB_MIN) throw this.corrupt(`simple packet block of ${len} bytes is too short`, base + pos + 4);
    const origlen = u32(buf, pos + 8, le);
    const snap = si.iface.snaplen;
    const caplen = snap > 0 && snap < origlen ? snap : origlen;
    if (caplen > si.maxPacket) {
      throw this.tooLarge(`simple packet length ${caplen} exceeds the largest packet of link type ${si.iface.linkType} (${si.maxPacket} bytes)`, base + pos + 8);
    }
    if (caplen > len - SPB_MIN) {
      throw this.corrupt(`simple packet length ${caplen} does not fit in a block of ${len} bytes`, base + pos + 8);
    }
    const rec = this.rec;
    rec.comments = null;
    rec.epbFlags = 0;
    this.blockLen = len;
    this.fill(rec, si, buf, pos, base, pos + 12, caplen, origlen);
    rec.tsSec = this.lastSec;
    rec.tsNsec = this.lastNsec;
    const raw = this.spbRaw;
    if (this.lastSec === 0 && this.lastNsec === 0) {
      raw.high = 0;
      raw.low = 0;
    } else {
      si.conv.fromWall(this.lastSec, this.lastNsec, raw);
    }
    rec.tsRawHigh = raw.high;
    rec.tsRawLow = raw.low;
    rec.timestampKnown = false;
    sink.onRecord(rec);
  }

  private fill(
    rec: CaptureRecord,
    si: SectionInterface,
    buf: Buffer,
    pos: number,
    base: number,
    dataStart: number,
    caplen: number,
    origlen: number,
  ): void {
    rec.packetNumber = ++this.packets + this.otherFrames;
    rec.fileOffset = base + pos;
    rec.interfaceIndex = si.iface.index;
    rec.linkType = si.iface.linkType;
    rec.originalLength = origlen;
    rec.blockOffset = pos;
    rec.blockLength = this.blockLen;
    rec.setBytes(buf, dataStart, caplen);
    if (caplen < origlen) this.truncatedRecords++;
  }
}
