/**
 * Classic libpcap writer. Reproduces the given file header exactly (byte order, magic, version,
 * thiszone/sigfigs, snaplen, the full link-type word), so reading a capture and writing every
 * record back unmodified yields the identical file.
 */
import { fcsToRefresh, pcapFcsBytes, refreshEthernetFcs, synthesizedFcsExtra } from './fcs.js';
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


export interface PcapWriterOptions {
  /**
   * Hold consecutive unmodified input records (WritablePacket.fromInput, record header identical
   * to the one this writer would write) as one run over the reader's buffer and write the run in
   * one go at releaseInput() or at the first record that does not continue it — no per-record copy.
   * Only for callers that call releaseInput() from CaptureSource.run's onRelease (file replay).
   */
  holdInputRuns?: boolean;
}

class PcapWriter implements PacketWriter {
  count = 0;
  private readonly sink: OutputSink;
  private readonly le: boolean;
  private readonly nanosecond: boolean;
  private readonly holdRuns: boolean;
  /** Link type and FCS bytes of the one interface (an edited Ethernet frame gets a new FCS). */
  private readonly linkType: number;
  private readonly fcsBytes: number;
  /** The run of input records held: runBuf[runStart, runEnd), whole records with their headers. */
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;
  /** DataView over the last source buffer a run was checked in. */
  private srcView: DataView | null = null;
  private srcViewOf: Buffer | null = null;

  constructor(dest: string, header: PcapFileHeader, options: PcapWriterOptions = {}) {
    this.sink = new OutputSink(dest);
    this.le = header.littleEndian;
    this.nanosecond = header.nanosecond;
    // A modified (Kuznetzov) input's records have 24-byte headers: never ours, so never held as runs.
    this.holdRuns = options.holdInputRuns === true && header.modified !== true;
    this.linkType = header.linkType;
    this.fcsBytes = pcapFcsBytes(header.linkTypeWord);
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
    // From wall time: for pcap input (tsSec, tsNsec) is (ts_sec, ts_frac scaled), kept unnormalised
    // by the reader, so this reproduces the stored fields exactly; any other source converts right.
    const frac = this.nanosecond ? pkt.tsNsec : Math.floor(pkt.tsNsec / 1000);
    if (this.holdRuns && pkt.fromInput === true && from >= PCAP_RECORD_HEADER_BYTES && this.continuesRun(src, from, caplen, pkt.tsSec, frac, pkt.originalLength)) {
      this.count++;
      return;
    }
    this.flushRun();
    // A synthesised frame on an FCS interface: padded and given an FCS like the captured ones.
    const extra = pkt.synthesized === true ? synthesizedFcsExtra(this.linkType, this.fcsBytes, caplen) : 0;
    const n = PCAP_RECORD_HEADER_BYTES + caplen + extra;
    const off = this.sink.reserve(n);
    const buf = this.sink.buf;
    const dv = this.sink.view;
    const le = this.le;
    dv.setUint32(off, pkt.tsSec >>> 0, le);
    dv.setUint32(off + 4, frac >>> 0, le);
    dv.setUint32(off + 8, caplen + extra, le);
    dv.setUint32(off + 12, (pkt.originalLength + extra) >>> 0, le);
    src.copy(buf, off + PCAP_RECORD_HEADER_BYTES, from, from + caplen);
    if (extra > 0) {
      buf.fill(0, off + PCAP_RECORD_HEADER_BYTES + caplen, off + n);
      refreshEthernetFcs(buf, off + PCAP_RECORD_HEADER_BYTES, caplen + extra);
    } else if (pkt.modified === true && fcsToRefresh(this.linkType, this.fcsBytes, caplen, pkt.originalLength)) refreshEthernetFcs(buf, off + PCAP_RECORD_HEADER_BYTES, caplen);
    this.sink.commit(n);
    this.count++;
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

  /**
   * When the 16 bytes in front of the packet in the reader's buffer are exactly the record header
   * this writer would write, the input record is the output record: it joins (or starts) the run.
   */
  private continuesRun(src: Buffer, from: number, caplen: number, tsSec: number, frac: number, origlen: number): boolean {
    let dv = this.srcView;
    if (dv === null || this.srcViewOf !== src) {
      dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      this.srcView = dv;
      this.srcViewOf = src;
    }
    const h = from - PCAP_RECORD_HEADER_BYTES;
    const le = this.le;
    if (dv.getUint32(h, le) !== tsSec >>> 0 || dv.getUint32(h + 4, le) !== frac >>> 0 || dv.getUint32(h + 8, le) !== caplen || dv.getUint32(h + 12, le) !== origlen >>> 0) {
      return false;
    }
    if (this.runBuf === src && this.runEnd === h) {
      this.runEnd = from + caplen;
      return true;
    }
    this.flushRun();
    this.runBuf = src;
    this.runStart = h;
    this.runEnd = from + caplen;
    return true;
  }

  /** Writes the held run: straight from the reader's buffer when long, else through the sink's buffer. */
  private flushRun(): void {
    const src = this.runBuf;
    if (src === null) return;
    this.runBuf = null;
    this.sink.writeRun(src, this.runStart, this.runEnd);
  }
}

/** Opens `dest` ('-' = stdout) and writes the pcap file header; records follow with write(). */
export function createPcapWriter(dest: string, header: PcapFileHeader, options: PcapWriterOptions = {}): PacketWriter {
  return new PcapWriter(dest, header, options);
}
