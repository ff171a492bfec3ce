/**
 * Classic libpcap writer. Reproduces the given file header exactly (byte order, magic, version,
 * thiszone/sigfigs, snaplen, the full link-type word), so reading a capture and writing every
 * record back unmodified yields the identical file.
 */
import { PCAP_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES } from './pcap-reader.js';
import { OutputSink } from './output-sink.js';
import type { PacketWriter, PcapFileHeader, WritablePacket } from './types.js';

/** The header of a capture we make ourselves (live capture, the proxy's tap): little-endian, ns. */
export function nanosecondPcapHeader(linkType: number, snaplen: number): PcapFileHeader {
  return { littleEndian: true, nanosecond: true, versionMajor: 2, versionMinor: 4, thisZone: 0, sigFigs: 0, snaplen, linkTypeWord: linkType, linkType };
}

export function encodePcapHeader(h: PcapFileHeader, out: Buffer, off: number): void {
  const le = h.littleEndian;
  const w32 = (v: number, at: number): void => {
    if (le) out.writeUInt32LE(v >>> 0, off + at);
    else out.writeUInt32BE(v >>> 0, off + at);
  };
  const w16 = (v: number, at: number): void => {
    if (le) out.writeUInt16LE(v & 0xffff, off + at);
    else out.writeUInt16BE(v & 0xffff, off + at);
  };
  w32(h.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h.versionMajor, 4);
  w16(h.versionMinor, 6);
  w32(h.thisZone, 8);
  w32(h.sigFigs, 12);
  w32(h.snaplen, 16);
  w32(h.linkTypeWord, 20);
}

class PcapWriter implements PacketWriter {
  count = 0;
  private readonly sink: OutputSink;
  private readonly le: boolean;
  private readonly nanosecond: boolean;
  /** DataView over the sink's buffer (remade if the sink replaces it): header fields without Buffer's checks. */
  private view: DataView | null = null;
  private viewOf: Buffer | null = null;

  constructor(dest: string, header: PcapFileHeader) {
    this.sink = new OutputSink(dest);
    this.le = header.littleEndian;
    this.nanosecond = header.nanosecond;
    const off = this.sink.reserve(PCAP_HEADER_BYTES);
    encodePcapHeader(header, this.sink.buf, off);
    this.sink.commit(PCAP_HEADER_BYTES);
  }

  write(pkt: WritablePacket): void {
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
    const n = PCAP_RECORD_HEADER_BYTES + caplen;
    const off = this.sink.reserve(n);
    const buf = this.sink.buf;
    // From wall time: for pcap input (tsSec, tsNsec) is (ts_sec, ts_frac scaled), kept unnormalised
    // by the reader, so this reproduces the stored fields exactly; any other source converts right.
    const frac = this.nanosecond ? pkt.tsNsec : Math.floor(pkt.tsNsec / 1000);
    let dv = this.view;
    if (dv === null || this.viewOf !== buf) {
      dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.view = dv;
      this.viewOf = buf;
    }
    const le = this.le;
    dv.setUint32(off, pkt.tsSec >>> 0, le);
    dv.setUint32(off + 4, frac >>> 0, le);
    dv.setUint32(off + 8, caplen, le);
    dv.setUint32(off + 12, pkt.originalLength >>> 0, le);
    src.copy(buf, off + PCAP_RECORD_HEADER_BYTES, from, from + caplen);
    this.sink.commit(n);
    this.count++;
  }

  async close(): Promise<void> {
    this.sink.close();
  }
}

/** Opens `dest` ('-' = stdout) and writes the pcap file header; records follow with write(). */
export function createPcapWriter(dest: string, header: PcapFileHeader): PacketWriter {
  return new PcapWriter(dest, header);
}
