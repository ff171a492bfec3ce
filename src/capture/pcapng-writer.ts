/**
 * pcapng writer: one little-endian section (SHB 1.0), an IDB per interface with its link type,
 * snaplen and resolution, and EPBs whose timestamps are in that interface's resolution, with an
 * opt_comment per comment string (what Wireshark shows as frame.comment).
 */
import { u16 } from './bytes.js';
import { OutputSink } from './output-sink.js';
import { BYTE_ORDER_MAGIC, BlockType, OptionCode, pad4 } from './pcapng-reader.js';
import { TsConverter, type RawTime } from './timestamp.js';
import type { CaptureInterface, PacketWriter, WritablePacket } from './types.js';

/** Longest option value pcapng can carry (16-bit length). */
const MAX_OPTION_BYTES = 0xffff;

/** Options whose value is a multi-byte integer in the section's byte order (swapped from big-endian input). */
const IDB_INTEGER_OPTIONS: ReadonlyMap<number, number> = new Map([
  [8, 8], // if_speed
  [14, 8], // if_tsoffset
  [16, 8], // if_txspeed
  [17, 8], // if_rxspeed
]);
/** Custom options start with a 4-byte Private Enterprise Number in the section's byte order. */
const CUSTOM_OPTIONS = new Set([2988, 2989, 19372, 19373]);

export interface PcapngWriterOptions {
  interfaces: readonly CaptureInterface[];
  /** shb_userappl: the application that wrote the file. */
  userAppl?: string;
}

export type PcapngWriter = PacketWriter & { addInterface(iface: CaptureInterface): void };

interface OutInterface {
  id: number;
  conv: TsConverter;
}

/** Appends options to a growable scratch buffer, little-endian. */
class OptionBuilder {
  private buf = Buffer.alloc(256);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  add(code: number, value: Buffer): void {
    const vlen = Math.min(value.length, MAX_OPTION_BYTES);
    this.ensure(4 + pad4(vlen));
    this.buf.writeUInt16LE(code, this.len);
    this.buf.writeUInt16LE(vlen, this.len + 2);
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

/** IDB options from a big-endian section, rewritten little-endian (headers and known integers). */
function swapOptions(raw: Buffer, into: OptionBuilder): void {
  let p = 0;
  while (p + 4 <= raw.length) {
    const code = u16(raw, p, false);
    const olen = u16(raw, p + 2, false);
    if (code === OptionCode.END) break;
    const value = Buffer.from(raw.subarray(p + 4, Math.min(raw.length, p + 4 + olen)));
    const width = IDB_INTEGER_OPTIONS.get(code);
    if (width !== undefined && value.length === width) value.reverse();
    else if (CUSTOM_OPTIONS.has(code) && value.length >= 4) value.subarray(0, 4).reverse();
    into.add(code, value);
    p += 4 + pad4(olen);
  }
}

function tsresolByte(iface: CaptureInterface): number {
  return (iface.tsResolutionBase === 2 ? 0x80 : 0) | (iface.tsResolutionExponent & 0x7f);
}

export function encodeInterfaceOptions(iface: CaptureInterface): Buffer {
  const ob = new OptionBuilder();
  if (iface.rawOptions && iface.rawOptions.length > 0) {
    if (iface.littleEndian) ob.raw(iface.rawOptions);
    else swapOptions(iface.rawOptions, ob);
  } else {
    if (iface.name !== null) ob.addString(OptionCode.IF_NAME, iface.name);
    if (iface.description !== null) ob.addString(OptionCode.IF_DESCRIPTION, iface.description);
    if (iface.tsResolutionBase !== 10 || iface.tsResolutionExponent !== 6) ob.add(OptionCode.IF_TSRESOL, Buffer.from([tsresolByte(iface)]));
    if (iface.tsOffsetSeconds !== 0) {
      const v = Buffer.alloc(8);
      v.writeBigInt64LE(BigInt(Math.trunc(iface.tsOffsetSeconds)));
      ob.add(OptionCode.IF_TSOFFSET, v);
    }
  }
  return ob.finish();
}

class PcapngWriterImpl implements PcapngWriter {
  count = 0;
  private readonly sink: OutputSink;
  /** Output interface by the input's global interface index. */
  private readonly byIndex: (OutInterface | undefined)[] = [];
  private nextId = 0;
  private readonly raw: RawTime = { high: 0, low: 0 };
  private readonly wall = { tsSec: 0, tsNsec: 0 };

  constructor(dest: string, opts: PcapngWriterOptions) {
    this.sink = new OutputSink(dest);
    this.writeSectionHeader(opts.userAppl);
    for (const iface of opts.interfaces) this.addInterface(iface);
  }

  private writeBlock(type: number, body: Buffer): void {
    const total = 12 + pad4(body.length);
    const off = this.sink.reserve(total);
    const buf = this.sink.buf;
    buf.writeUInt32LE(type, off);
    buf.writeUInt32LE(total, off + 4);
    body.copy(buf, off + 8);
    buf.fill(0, off + 8 + body.length, off + total - 4);
    buf.writeUInt32LE(total, off + total - 4);
    this.sink.commit(total);
  }

  private writeSectionHeader(userAppl: string | undefined): void {
    const ob = new OptionBuilder();
    if (userAppl !== undefined) ob.addString(OptionCode.SHB_USERAPPL, userAppl);
    const opts = ob.finish();
    const body = Buffer.alloc(16 + opts.length);
    body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
    body.writeUInt16LE(1, 4); // major
    body.writeUInt16LE(0, 6); // minor
    body.writeBigInt64LE(-1n, 8); // section length unknown
    opts.copy(body, 16);
    this.writeBlock(BlockType.SHB, body);
  }

  addInterface(iface: CaptureInterface): void {
    if (this.byIndex[iface.index] !== undefined) return;
    const opts = encodeInterfaceOptions(iface);
    const body = Buffer.alloc(8 + opts.length);
    body.writeUInt16LE(iface.linkType & 0xffff, 0);
    body.writeUInt16LE(0, 2);
    body.writeUInt32LE(iface.snaplen >>> 0, 4);
    opts.copy(body, 8);
    this.writeBlock(BlockType.IDB, body);
    this.byIndex[iface.index] = {
      id: this.nextId++,
      conv: new TsConverter(iface.tsResolutionBase, iface.tsResolutionExponent, iface.tsOffsetSeconds),
    };
  }

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
    const out = this.byIndex[pkt.interfaceIndex];
    if (out === undefined) throw new Error(`pcapng writer: interface ${pkt.interfaceIndex} was never added`);
    // Straight from the source buffer when the packet offers one (no view per packet).
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
    const flags = pkt.epbFlags ?? 0;
    let optMax = flags !== 0 ? 8 : 0;
    if (comments) for (const c of comments) optMax += 4 + pad4(Math.min(MAX_OPTION_BYTES, Buffer.byteLength(c, 'utf8')));
    if (optMax > 0) optMax += 4; // opt_endofopt
    const dataEnd = 28 + pad4(caplen);
    const off = this.sink.reserve(dataEnd + optMax + 4);
    const buf = this.sink.buf;
    const ts = this.timestamp(pkt, out.conv);
    buf.writeUInt32LE(BlockType.EPB, off);
    buf.writeUInt32LE(out.id, off + 8);
    buf.writeUInt32LE(ts.high, off + 12);
    buf.writeUInt32LE(ts.low, off + 16);
    buf.writeUInt32LE(caplen, off + 20);
    buf.writeUInt32LE(pkt.originalLength >>> 0, off + 24);
    src.copy(buf, off + 28, from, from + caplen);
    buf.fill(0, off + 28 + caplen, off + dataEnd);
    let p = off + dataEnd;
    if (comments) {
      for (const c of comments) {
        // Buffer#write never writes a partial UTF-8 character, so a cut comment stays valid text.
        const n = buf.write(c, p + 4, MAX_OPTION_BYTES, 'utf8');
        buf.writeUInt16LE(OptionCode.COMMENT, p);
        buf.writeUInt16LE(n, p + 2);
        buf.fill(0, p + 4 + n, p + 4 + pad4(n));
        p += 4 + pad4(n);
      }
    }
    if (flags !== 0) {
      buf.writeUInt16LE(OptionCode.EPB_FLAGS, p);
      buf.writeUInt16LE(4, p + 2);
      buf.writeUInt32LE(flags >>> 0, p + 4);
      p += 8;
    }
    if (p > off + dataEnd) {
      buf.writeUInt32LE(0, p);
      p += 4;
    }
    const total = p + 4 - off;
    buf.writeUInt32LE(total, off + 4);
    buf.writeUInt32LE(total, p);
    this.sink.commit(total);
    this.count++;
  }

  async close(): Promise<void> {
    this.sink.close();
  }
}

/** Opens `dest` ('-' = stdout), writes the SHB and an IDB per given interface. */
export function createPcapngWriter(dest: string, opts: PcapngWriterOptions): PcapngWriter {
  return new PcapngWriterImpl(dest, opts);
}
