/**
 * pcapng writer, in two modes.
 *
 * Following the input (`followInput`, a pcapng IN): the output has the input's structure. Every
 * block that carries no packet (SHB, IDB, NRB, ISB, DSB, custom, unknown) is written as read, in
 * its place among the packets, through writeInputBlock(); each section keeps its own byte order
 * (so its option bytes are copied, never reinterpreted). A packet whose input block still fits
 * (same section and interface id, same lengths and stored timestamp, no comment to add) is that
 * block, byte for byte — an edited packet too, since edits are made in place in a copy of its block
 * and never change a length. Anything else is encoded as an EPB in the current section's byte
 * order, keeping the input block's options (converted when the byte order differs) and adding
 * comments. An unmodified pcapng therefore round-trips byte-identical, as the pcap writer does.
 *
 * Fresh (pcap or live input, or nothing given through writeInputBlock): one little-endian section
 * (SHB 1.0 with shb_userappl), an IDB per interface and EPBs with opt_comment/epb_flags.
 *
 * Every block is reserved, filled and committed whole, so an interrupted run leaves a valid file.
 */
import { u16, u32 } from './bytes.js';
import { epbFlagsFcsBytes, fcsToRefresh, refreshEthernetFcs, synthesizedFcsExtra } from './fcs.js';
import { OutputSink } from './output-sink.js';
import { EPB_HASH, hashKinds, hashRecomputable, PacketDigests, recomputeHash, recomputeHashes } from './pcapng-hash.js';
import { BYTE_ORDER_MAGIC, BlockType, OptionCode, pad4 } from './pcapng-reader.js';
import { TsConverter, type RawTime } from './timestamp.js';
import type { CaptureBlock, CaptureInterface, PacketWriter, WritablePacket } from './types.js';

/** Longest option value pcapng can carry (16-bit length). */
const MAX_OPTION_BYTES = 0xffff;

/** IDB options whose value is one integer in the section's byte order, by code: its width. */
const IDB_INTEGER_OPTIONS: ReadonlyMap<number, number> = new Map([
  [8, 8], // if_speed
  [10, 4], // if_tzone
  [14, 8], // if_tsoffset
  [16, 8], // if_txspeed
  [17, 8], // if_rxspeed
]);
/** EPB (and PB) options whose value is one integer, by code: its width. */
const EPB_INTEGER_OPTIONS: ReadonlyMap<number, number> = new Map([
  [2, 4], // epb_flags
  [4, 8], // epb_dropcount
  [5, 8], // epb_packetid
  [6, 4], // epb_queue
]);
const EPB_VERDICT = 7;
const EPB_DROPCOUNT = 4;
/** Custom options start with a 4-byte Private Enterprise Number in the section's byte order. */
const CUSTOM_OPTIONS = new Set([2988, 2989, 19372, 19373]);

const EPB_HEADER = 28;
const SPB_HEADER = 12;

export interface PcapngWriterOptions {
  /** Interfaces to describe up front (fresh mode); more come through addInterface(). */
  interfaces: readonly CaptureInterface[];
  /** shb_userappl of the section this writer makes itself (fresh mode). */
  userAppl?: string;
  /**
   * Keep the input's structure: no section is written up front; sections, interfaces and the other
   * blocks come through writeInputBlock() (CaptureSource.run's onBlock) and are copied as read.
   */
  followInput?: boolean;
  /**
   * Hold consecutive unmodified input blocks (WritablePacket.fromInput, writeInputBlock) as one run
   * over the reader's buffer, written in one go at releaseInput() or when the run is broken. Only
   * for callers that call releaseInput() from CaptureSource.run's onRelease.
   */
  holdInputRuns?: boolean;
  /**
   * Leave out the input's custom blocks of type 0x40000BAD, which "should not be copied to a new file
   * if the pcapng file is manipulated by an application" (draft-ietf-opsawg-pcapng, Custom Block):
   * replay's OUT is such a file (as editcap, which drops them). The annotated capture keeps them:
   * it is the input with notes, and Wireshark numbers them as frames, so keeping them keeps its
   * frame N = verdict packet N.
   */
  leaveOutNoCopyBlocks?: boolean;
}

export type PcapngWriter = PacketWriter & {
  addInterface(iface: CaptureInterface): void;
  /** Copies an input block that carries no packet (followInput); see CaptureBlock. */
  writeInputBlock(block: CaptureBlock): void;
};

interface OutInterface {
  /** Interface id in its output section. */
  id: number;
  /** Output section (0-based count of SHBs written) the id belongs to. */
  outSection: number;
  conv: TsConverter;
  iface: CaptureInterface;
}

function swapValue(code: number, value: Buffer, integers: ReadonlyMap<number, number>): void {
  const width = integers.get(code);
  if (width !== undefined && value.length === width) value.reverse();
  else if (integers === EPB_INTEGER_OPTIONS && code === EPB_VERDICT && value.length === 9 && (value[0] === 1 || value[0] === 2)) value.subarray(1).reverse();
  else if (CUSTOM_OPTIONS.has(code) && value.length >= 4) value.subarray(0, 4).reverse();
}

/** Appends options to a growable scratch buffer in one byte order. */
class OptionBuilder {
  private buf = Buffer.alloc(256);
  len = 0;
  constructor(private readonly le: boolean) {}

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  private header(code: number, vlen: number): void {
    if (this.le) {
      this.buf.writeUInt16LE(code, this.len);
      this.buf.writeUInt16LE(vlen, this.len + 2);
    } else {
      this.buf.writeUInt16BE(code, this.len);
      this.buf.writeUInt16BE(vlen, this.len + 2);
    }
  }

  add(code: number, value: Buffer): void {
    const vlen = Math.min(value.length, MAX_OPTION_BYTES);
    this.ensure(4 + pad4(vlen));
    this.header(code, vlen);
    value.copy(this.buf, this.len + 4, 0, vlen);
    this.buf.fill(0, this.len + 4 + vlen, this.len + 4 + pad4(vlen));
    this.len += 4 + pad4(vlen);
  }

  addString(code: number, s: string): void {
    this.add(code, Buffer.from(s, 'utf8'));
  }

  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.len);
    this.len += bytes.length;
  }

  /** The options followed by opt_endofopt, or an empty buffer when there are none. */
  finish(): Buffer {
    if (this.len === 0) return Buffer.alloc(0);
    this.ensure(4);
    this.buf.writeUInt32LE(0, this.len);
    return this.buf.subarray(0, this.len + 4);
  }
}

/** Options in the other byte order, rewritten (headers and known integers; custom options' PEN). */
function swapOptions(raw: Buffer, fromLe: boolean, into: OptionBuilder, integers: ReadonlyMap<number, number>): void {
  let p = 0;
  while (p + 4 <= raw.length) {
    const code = u16(raw, p, fromLe);
    const olen = u16(raw, p + 2, fromLe);
    if (code === OptionCode.END) break;
    const value = Buffer.from(raw.subarray(p + 4, Math.min(raw.length, p + 4 + olen)));
    swapValue(code, value, integers);
    into.add(code, value);
    p += 4 + pad4(olen);
  }
}

function tsresolByte(iface: CaptureInterface): number {
  return (iface.tsResolutionBase === 2 ? 0x80 : 0) | (iface.tsResolutionExponent & 0x7f);
}

/** The IDB options of `iface` in byte order `le` (little-endian by default), with opt_endofopt. */
export function encodeInterfaceOptions(iface: CaptureInterface, le = true): Buffer {
  const ob = new OptionBuilder(le);
  if (iface.rawOptions && iface.rawOptions.length > 0) {
    if (iface.littleEndian === le) ob.raw(iface.rawOptions);
    else swapOptions(iface.rawOptions, iface.littleEndian, ob, IDB_INTEGER_OPTIONS);
  } else {
    if (iface.name !== null) ob.addString(OptionCode.IF_NAME, iface.name);
    if (iface.description !== null) ob.addString(OptionCode.IF_DESCRIPTION, iface.description);
    if (iface.tsResolutionBase !== 10 || iface.tsResolutionExponent !== 6) ob.add(OptionCode.IF_TSRESOL, Buffer.from([tsresolByte(iface)]));
    if (iface.tsOffsetSeconds !== 0) {
      const v = Buffer.alloc(8);
      if (le) v.writeBigInt64LE(BigInt(Math.trunc(iface.tsOffsetSeconds)));
      else v.writeBigInt64BE(BigInt(Math.trunc(iface.tsOffsetSeconds)));
      ob.add(OptionCode.IF_TSOFFSET, v);
    }
  }
  return ob.finish();
}


class PcapngWriterImpl implements PcapngWriter {
  count = 0;
  private readonly sink: OutputSink;
  private readonly userAppl: string | undefined;
  private readonly holdRuns: boolean;
  private readonly leaveOutNoCopy: boolean;
  /** Byte order of the current output section. */
  private le = true;
  /** Output sections started so far - 1 (-1: none yet). */
  private outSection = -1;
  /** Next interface id in the current output section. */
  private nextId = 0;
  /** Output interface by the input's global interface index (where its IDB was written). */
  private readonly byIndex: (OutInterface | undefined)[] = [];
  /** Interfaces of earlier sections described again in the current one (held packets written late). */
  private readonly aliases = new Map<number, OutInterface>();
  /** Current input section: output id of each of its interface ids (ISBs name interfaces by id). */
  private inputIds: number[] = [];
  private readonly raw: RawTime = { high: 0, low: 0 };
  private readonly wall = { tsSec: 0, tsNsec: 0 };
  /** The run of input blocks held: runBuf[runStart, runEnd). */
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;

  constructor(dest: string, opts: PcapngWriterOptions) {
    this.sink = new OutputSink(dest);
    this.userAppl = opts.userAppl;
    this.holdRuns = opts.holdInputRuns === true;
    this.leaveOutNoCopy = opts.leaveOutNoCopyBlocks === true;
    if (opts.followInput !== true) this.openOwnSection();
    for (const iface of opts.interfaces) this.addInterface(iface);
  }

  // ------------------------------------------------------------------ blocks as read

  writeInputBlock(b: CaptureBlock): void {
    switch (b.type) {
      case BlockType.SHB:
        this.copyShb(b);
        this.outSection++;
        this.le = b.littleEndian;
        this.nextId = 0;
        this.aliases.clear();
        this.inputIds = [];
        return;
      case BlockType.IDB: {
        if (this.outSection < 0) this.openOwnSection();
        const iface = b.iface;
        if (iface === null) return;
        const known = this.byIndex[iface.index];
        if (known !== undefined) {
          // Described already (addInterface came first): packets refer to that IDB.
          this.inputIds.push(known.id);
          return;
        }
        this.inputIds.push(this.nextId);
        if (b.littleEndian === this.le) {
          this.copyVerbatim(b.buffer, b.offset, b.length, true);
          this.register(iface);
        } else {
          this.addInterface(iface);
        }
        return;
      }
      case BlockType.ISB: {
        if (this.outSection < 0) return;
        const id = b.length >= 12 ? u32(b.buffer, b.offset + 8, b.littleEndian) : 0;
        const outId = this.inputIds[id];
        if (b.littleEndian === this.le && (outId === undefined || outId === id)) this.copyVerbatim(b.buffer, b.offset, b.length, true);
        else if (outId !== undefined && b.littleEndian === this.le) {
          // Interface ids moved (an interface of an earlier section was described here first).
          const off = this.reserveBlock(b.length);
          b.buffer.copy(this.sink.buf, off, b.offset, b.offset + b.length);
          this.dv().setUint32(off + 8, outId, this.le);
          this.sink.commit(b.length);
        }
        return;
      }
      default:
        if (b.type === BlockType.CB_NOCOPY && this.leaveOutNoCopy) return;
        if (this.outSection < 0) this.openOwnSection();
        // NRB, DSB, custom and unknown blocks: copied as read (they belong to the section they are in).
        if (b.littleEndian === this.le) this.copyVerbatim(b.buffer, b.offset, b.length, true);
    }
  }

  /** An input SHB as read; a stated section length becomes -1 (unknown): ours may differ. */
  private copyShb(b: CaptureBlock): void {
    const lenAt = b.offset + 16;
    const stated = b.length >= 28 && !(u32(b.buffer, lenAt, true) === 0xffffffff && u32(b.buffer, lenAt + 4, true) === 0xffffffff);
    if (!stated) {
      this.copyVerbatim(b.buffer, b.offset, b.length, true);
      return;
    }
    const off = this.reserveBlock(b.length);
    b.buffer.copy(this.sink.buf, off, b.offset, b.offset + b.length);
    this.sink.buf.fill(0xff, off + 16, off + 24);
    this.sink.commit(b.length);
  }

  // ------------------------------------------------------------------ sections and interfaces

  private openOwnSection(): void {
    const ob = new OptionBuilder(true);
    if (this.userAppl !== undefined) ob.addString(OptionCode.SHB_USERAPPL, this.userAppl);
    const opts = ob.finish();
    const total = 12 + 16 + opts.length;
    const off = this.reserveBlock(total);
    const buf = this.sink.buf;
    buf.writeUInt32LE(BlockType.SHB, off);
    buf.writeUInt32LE(total, off + 4);
    buf.writeUInt32LE(BYTE_ORDER_MAGIC, off + 8);
    buf.writeUInt16LE(1, off + 12); // major
    buf.writeUInt16LE(0, off + 14); // minor
    buf.writeBigInt64LE(-1n, off + 16); // section length unknown
    opts.copy(buf, off + 24);
    buf.writeUInt32LE(total, off + total - 4);
    this.sink.commit(total);
    this.outSection++;
    this.le = true;
    this.nextId = 0;
    this.aliases.clear();
    this.inputIds = [];
  }

  private register(iface: CaptureInterface): OutInterface {
    const o: OutInterface = {
      id: this.nextId++,
      outSection: this.outSection,
      conv: new TsConverter(iface.tsResolutionBase, iface.tsResolutionExponent, iface.tsOffsetSeconds),
      iface,
    };
    this.byIndex[iface.index] = o;
    return o;
  }

  /** An IDB for `iface` in the current section's byte order. */
  private writeIdb(iface: CaptureInterface): void {
    if (this.outSection < 0) this.openOwnSection();
    const opts = encodeInterfaceOptions(iface, this.le);
    const total = 12 + 8 + opts.length;
    const off = this.reserveBlock(total);
    const dv = this.dv();
    const le = this.le;
    dv.setUint32(off, BlockType.IDB, le);
    dv.setUint32(off + 4, total, le);
    dv.setUint16(off + 8, iface.linkType & 0xffff, le);
    dv.setUint16(off + 10, 0, le);
    dv.setUint32(off + 12, iface.snaplen >>> 0, le);
    opts.copy(this.sink.buf, off + 16);
    dv.setUint32(off + total - 4, total, le);
    this.sink.commit(total);
  }

  addInterface(iface: CaptureInterface): void {
    if (this.byIndex[iface.index] !== undefined) return;
    this.writeIdb(iface);
    this.register(iface);
  }

  /**
   * The output interface for a packet of input interface `index`: where its IDB was written, or,
   * for a packet of an earlier section written after a later SHB (held back across the boundary),
   * a copy of its IDB in the current section.
   */
  private outFor(index: number): OutInterface {
    const o = this.byIndex[index];
    if (o === undefined) throw new Error(`pcapng writer: interface ${index} was never added`);
    if (o.outSection === this.outSection) return o;
    let a = this.aliases.get(index);
    if (a === undefined) {
      this.writeIdb(o.iface);
      a = { id: this.nextId++, outSection: this.outSection, conv: o.conv, iface: o.iface };
      this.aliases.set(index, a);
    }
    return a;
  }

  // ------------------------------------------------------------------ packets

  /**
   * The stored count for this packet in the output interface's resolution: the input's own count
   * when it denotes exactly this wall time here (same resolution and offset: exact round trip),
   * else converted from wall time (pcap input, other resolutions, edited timestamps).
   */
  private timestamp(pkt: WritablePacket, conv: TsConverter): RawTime {
    const raw = this.raw;
    conv.toWall(pkt.tsRawHigh, pkt.tsRawLow, this.wall);
    if (this.wall.tsSec === pkt.tsSec && this.wall.tsNsec === pkt.tsNsec) {
      raw.high = pkt.tsRawHigh;
      raw.low = pkt.tsRawLow;
      return raw;
    }
    conv.fromWall(pkt.tsSec, pkt.tsNsec, raw);
    return raw;
  }

  write(pkt: WritablePacket, comments?: readonly string[] | null): void {
    const o = this.outFor(pkt.interfaceIndex);
    let src = pkt.buffer;
    let from = 0;
    let caplen: number;
    if (src !== undefined) {
      from = pkt.offset ?? 0;
      caplen = pkt.captureLength ?? src.length - from;
    } else {
      src = pkt.data;
      caplen = src.length;
    }
    const blockLen = pkt.blockLength ?? 0;
    if (blockLen > 0 && pkt.buffer !== undefined) {
      const bo = pkt.blockOffset ?? 0;
      const blockLe = o.iface.littleEndian;
      const extra = comments && comments.length > 0 ? extraComments(src, bo, blockLen, blockLe, comments) : NO_EXTRA;
      // An edited packet's epb_hash options no longer describe its bytes (pcapng-hash.ts), nor its FCS its frame (fcs.ts).
      const hashes = pkt.modified === true ? hashKinds(src, optionsStart(src, bo, blockLen, blockLe), bo + blockLen - 4, blockLe) : 0;
      const fcs = this.fcsFor(pkt, o, caplen);
      if (extra === NO_EXTRA && (hashes & 2) === 0 && blockLe === this.le && this.blockFits(pkt, src, bo, from, caplen, o)) {
        if (hashes === 0 && !fcs) this.copyVerbatim(src, bo, blockLen, pkt.fromInput === true);
        else this.copyRefreshed(src, bo, blockLen, from - bo, caplen, hashes !== 0, fcs);
      } else {
        this.encodeEpb(pkt, o, src, from, caplen, bo, blockLen, blockLe, extra === NO_EXTRA ? null : extra);
      }
    } else {
      this.encodeEpb(pkt, o, src, from, caplen, 0, 0, true, comments && comments.length > 0 ? { replace: true, add: comments } : null);
    }
    this.count++;
  }

  /**
   * The packet's block as it is, with (an edited packet) its FCS recomputed over the frame and then
   * its recomputable epb_hash options over the bytes written.
   */
  private copyRefreshed(src: Buffer, bo: number, blockLen: number, dataAt: number, caplen: number, hashes: boolean, fcs: boolean): void {
    const off = this.reserveBlock(blockLen);
    const buf = this.sink.buf;
    src.copy(buf, off, bo, bo + blockLen);
    if (fcs) refreshEthernetFcs(buf, off + dataAt, caplen);
    if (hashes) recomputeHashes(buf, optionsStart(buf, off, blockLen, this.le), off + blockLen - 4, this.le, buf, off + dataAt, caplen);
    this.sink.commit(blockLen);
  }

  /** Whether an edited packet's Ethernet FCS is to be recomputed (epb_flags' FCS length first, then the interface's). */
  private fcsFor(pkt: WritablePacket, o: OutInterface, caplen: number): boolean {
    if (pkt.modified !== true) return false;
    const fcs = epbFlagsFcsBytes(pkt.epbFlags ?? 0) || (o.iface.fcsBytes ?? 0);
    return fcsToRefresh(o.iface.linkType, fcs, caplen, pkt.originalLength);
  }

  /** The packet's input block says exactly what an EPB of this packet here would (so it can be copied). */
  private blockFits(pkt: WritablePacket, src: Buffer, bo: number, from: number, caplen: number, o: OutInterface): boolean {
    const le = this.le;
    const type = u32(src, bo, le);
    if (type === BlockType.EPB || type === BlockType.PB) {
      if (from !== bo + EPB_HEADER) return false;
      const id = type === BlockType.EPB ? u32(src, bo + 8, le) : u16(src, bo + 8, le);
      if (id !== o.id || u32(src, bo + 20, le) !== caplen || u32(src, bo + 24, le) !== pkt.originalLength >>> 0) return false;
      const ts = this.timestamp(pkt, o.conv);
      return u32(src, bo + 12, le) === ts.high && u32(src, bo + 16, le) === ts.low;
    }
    if (type === BlockType.SPB) {
      // An SPB has no timestamp, no options and implicitly interface 0. The reader gives its record
      // the previous packet's time (timestampKnown false), which the SPB never stored: copying the
      // block keeps it time-less, as in the input.
      return from === bo + SPB_HEADER && o.id === 0 && u32(src, bo + 8, le) === pkt.originalLength >>> 0;
    }
    return false;
  }

  /**
   * An EPB in the current section's byte order: the packet's header fields and bytes, the options of
   * its input block (EPB/PB; converted if the block's byte order differs) and the comments to add.
   */
  private encodeEpb(
    pkt: WritablePacket,
    o: OutInterface,
    src: Buffer,
    from: number,
    caplen: number,
    bo: number,
    blockLen: number,
    blockLe: boolean,
    extra: ExtraComments | null,
  ): void {
    // The input block's options region, if it has one.
    let optStart = 0;
    let optEnd = 0;
    // An obsolete Packet Block's Drops Count header field (0xFFFF: not known) becomes epb_dropcount.
    let pbDrops = -1;
    if (blockLen > 0) {
      const type = u32(src, bo, blockLe);
      if ((type === BlockType.EPB || type === BlockType.PB) && blockLen >= 32) {
        optStart = bo + EPB_HEADER + pad4(u32(src, bo + 20, blockLe));
        optEnd = bo + blockLen - 4;
        if (optStart > optEnd) optStart = optEnd;
        if (type === BlockType.PB) {
          const drops = u16(src, bo + 10, blockLe);
          if (drops !== 0xffff) pbDrops = drops;
        }
      }
    }
    const flags = pkt.epbFlags ?? 0;
    // A synthesised frame on an FCS interface: padded and given an FCS like the captured ones.
    const fcsExtra = pkt.synthesized === true ? synthesizedFcsExtra(o.iface.linkType, epbFlagsFcsBytes(flags) || (o.iface.fcsBytes ?? 0), caplen) : 0;
    const stored = caplen + fcsExtra;
    let optMax = optEnd - optStart + (flags !== 0 ? 8 : 0) + (pbDrops >= 0 ? 12 : 0) + 4;
    if (extra) for (const c of extra.add) optMax += 4 + pad4(Math.min(MAX_OPTION_BYTES, Buffer.byteLength(c, 'utf8')));
    const dataEnd = EPB_HEADER + pad4(stored);
    const off = this.reserveBlock(dataEnd + optMax + 4);
    const buf = this.sink.buf;
    const dv = this.dv();
    const le = this.le;
    const ts = this.timestamp(pkt, o.conv);
    dv.setUint32(off, BlockType.EPB, le);
    dv.setUint32(off + 8, o.id, le);
    dv.setUint32(off + 12, ts.high, le);
    dv.setUint32(off + 16, ts.low, le);
    dv.setUint32(off + 20, stored, le);
    dv.setUint32(off + 24, (pkt.originalLength + fcsExtra) >>> 0, le);
    src.copy(buf, off + EPB_HEADER, from, from + caplen);
    buf.fill(0, off + EPB_HEADER + caplen, off + dataEnd);
    if (fcsExtra > 0) refreshEthernetFcs(buf, off + EPB_HEADER, stored);
    else if (this.fcsFor(pkt, o, caplen)) refreshEthernetFcs(buf, off + EPB_HEADER, caplen);
    let p = off + dataEnd;
    let hasFlags = false;
    // The input block's options, in place and order (minus its comments when they are replaced).
    let q = optStart;
    let digests: PacketDigests | null = null;
    while (q + 4 <= optEnd) {
      const code = u16(src, q, blockLe);
      const olen = u16(src, q + 2, blockLe);
      if (code === OptionCode.END || q + 4 + olen > optEnd) break;
      const rehash = code === EPB_HASH && pkt.modified === true;
      if (!(code === OptionCode.COMMENT && extra?.replace === true) && !(rehash && !hashRecomputable(src, q + 4, olen))) {
        if (code === OptionCode.EPB_FLAGS) hasFlags = true;
        if (code === EPB_DROPCOUNT) pbDrops = -1;
        dv.setUint16(p, code, le);
        dv.setUint16(p + 2, olen, le);
        src.copy(buf, p + 4, q + 4, q + 4 + olen);
        if (blockLe !== le) swapValue(code, buf.subarray(p + 4, p + 4 + olen), EPB_INTEGER_OPTIONS);
        if (rehash) recomputeHash(buf, p + 4, olen, buf, off + EPB_HEADER, caplen, (digests ??= new PacketDigests()));
        buf.fill(0, p + 4 + olen, p + 4 + pad4(olen));
        p += 4 + pad4(olen);
      }
      q += 4 + pad4(olen);
    }
    if (extra) {
      for (const c of extra.add) {
        // Buffer#write never writes a partial UTF-8 character, so a cut comment stays valid text.
        const n = buf.write(c, p + 4, MAX_OPTION_BYTES, 'utf8');
        dv.setUint16(p, OptionCode.COMMENT, le);
        dv.setUint16(p + 2, n, le);
        buf.fill(0, p + 4 + n, p + 4 + pad4(n));
        p += 4 + pad4(n);
      }
    }
    if (pbDrops >= 0) {
      dv.setUint16(p, EPB_DROPCOUNT, le);
      dv.setUint16(p + 2, 8, le);
      dv.setBigUint64(p + 4, BigInt(pbDrops), le);
      p += 12;
    }
    if (flags !== 0 && !hasFlags) {
      dv.setUint16(p, OptionCode.EPB_FLAGS, le);
      dv.setUint16(p + 2, 4, le);
      dv.setUint32(p + 4, flags >>> 0, le);
      p += 8;
    }
    if (p > off + dataEnd) {
      dv.setUint32(p, 0, le);
      p += 4;
    }
    const total = p + 4 - off;
    dv.setUint32(off + 4, total, le);
    dv.setUint32(p, total, le);
    this.sink.commit(total);
  }

  // ------------------------------------------------------------------ byte plumbing

  private dv(): DataView {
    return this.sink.view;
  }

  /** Room for one whole block in the sink, after any held run (order is kept). */
  private reserveBlock(n: number): number {
    this.flushRun();
    return this.sink.reserve(n);
  }

  /**
   * Writes src[start, start + len) as it is: joins the held run when it is the reader's buffer and
   * the caller releases input (holdInputRuns), else copied into the sink now.
   */
  private copyVerbatim(src: Buffer, start: number, len: number, fromInput: boolean): void {
    if (this.holdRuns && fromInput) {
      if (this.runBuf === src && this.runEnd === start) {
        this.runEnd = start + len;
        return;
      }
      this.flushRun();
      this.runBuf = src;
      this.runStart = start;
      this.runEnd = start + len;
      return;
    }
    const off = this.reserveBlock(len);
    src.copy(this.sink.buf, off, start, start + len);
    this.sink.commit(len);
  }

  private flushRun(): void {
    const src = this.runBuf;
    if (src === null) return;
    this.runBuf = null;
    this.sink.writeRun(src, this.runStart, this.runEnd);
  }

  releaseInput(): void {
    this.flushRun();
  }

  flush(): void {
    this.flushRun();
    this.sink.flush();
  }

  async close(): Promise<void> {
    try {
      this.flushRun();
    } finally {
      this.sink.close();
    }
  }
}

/** Where the options of the packet block buf[bo, bo + blockLen) start (its end - 4 when it has none). */
function optionsStart(buf: Buffer, bo: number, blockLen: number, le: boolean): number {
  const type = u32(buf, bo, le);
  const end = bo + blockLen - 4;
  if ((type !== BlockType.EPB && type !== BlockType.PB) || blockLen < 32) return end;
  return Math.min(end, bo + EPB_HEADER + pad4(u32(buf, bo + 20, le)));
}

/** Comments to write beyond the block's own: `add` after them, or instead of them (`replace`). */
interface ExtraComments {
  replace: boolean;
  add: readonly string[];
}
const NO_EXTRA: ExtraComments = { replace: false, add: [] };

/**
 * What `comments` adds to the comments already in the packet's input block: nothing when they are
 * the same; the tail when the block's comments come first (the annotated capture's notes); else
 * they replace the block's. Only called when there are comments (they allocate).
 */
function extraComments(src: Buffer, bo: number, blockLen: number, le: boolean, comments: readonly string[]): ExtraComments {
  const own: string[] = [];
  const type = u32(src, bo, le);
  if ((type === BlockType.EPB || type === BlockType.PB) && blockLen >= 32) {
    const optEnd = bo + blockLen - 4;
    let q = bo + EPB_HEADER + pad4(u32(src, bo + 20, le));
    while (q + 4 <= optEnd) {
      const code = u16(src, q, le);
      const olen = u16(src, q + 2, le);
      if (code === OptionCode.END || q + 4 + olen > optEnd) break;
      if (code === OptionCode.COMMENT) own.push(src.toString('utf8', q + 4, q + 4 + olen));
      q += 4 + pad4(olen);
    }
  }
  if (own.length > comments.length || own.some((c, i) => comments[i] !== c)) return { replace: true, add: comments };
  if (own.length === comments.length) return NO_EXTRA;
  return { replace: false, add: comments.slice(own.length) };
}

/** Opens `dest` ('-' = stdout); in fresh mode writes the SHB and an IDB per given interface. */
export function createPcapngWriter(dest: string, opts: PcapngWriterOptions): PcapngWriter {
  return new PcapngWriterImpl(dest, opts);
}
