/**
 * Builds small pcapng files around real packets (taken from a corpus pcap): section header,
 * interface (with an optional if_tsresol), and packets as Enhanced or Simple Packet Blocks, in
 * either byte order — the shapes tcpdump/dumpcap do not write but the format allows.
 */
import { recordEnds } from '../helpers/interrupted-run.js';

export interface PcapPacket {
  tsSec: number;
  tsUsec: number;
  data: Buffer;
}

/** The packets of a classic microsecond pcap (either byte order). */
export function pcapPackets(file: Buffer): PcapPacket[] {
  const le = file.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  let pos = 24;
  return recordEnds(file).map((end) => {
    const p = { tsSec: u32(pos), tsUsec: u32(pos + 4), data: file.subarray(pos + 16, end) };
    pos = end;
    return p;
  });
}

export class PcapngBuilder {
  private readonly parts: Buffer[] = [];
  constructor(private readonly le = true) {}

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }

  private block(type: number, body: Buffer): this {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = 12 + padded.length;
    this.parts.push(this.u32(type), this.u32(len), padded, this.u32(len));
    return this;
  }

  shb(): this {
    const body = Buffer.alloc(16);
    if (this.le) {
      body.writeUInt32LE(0x1a2b3c4d, 0);
      body.writeUInt16LE(1, 4);
    } else {
      body.writeUInt32BE(0x1a2b3c4d, 0);
      body.writeUInt16BE(1, 4);
    }
    body.fill(0xff, 8, 16); // section length unknown
    return this.block(0x0a0d0d0a, body);
  }

  /** An IDB; `tsresol` (if_tsresol byte) omitted = the default 10^-6. */
  idb(linkType: number, snaplen = 0, tsresol?: number): this {
    const head = Buffer.alloc(8);
    if (this.le) {
      head.writeUInt16LE(linkType, 0);
      head.writeUInt32LE(snaplen, 4);
    } else {
      head.writeUInt16BE(linkType, 0);
      head.writeUInt32BE(snaplen, 4);
    }
    const opts: Buffer[] = [];
    if (tsresol !== undefined) {
      const code = Buffer.alloc(4);
      if (this.le) {
        code.writeUInt16LE(9, 0);
        code.writeUInt16LE(1, 2);
      } else {
        code.writeUInt16BE(9, 0);
        code.writeUInt16BE(1, 2);
      }
      opts.push(code, Buffer.from([tsresol, 0, 0, 0]), Buffer.alloc(4)); // + opt_endofopt
    }
    return this.block(1, Buffer.concat([head, ...opts]));
  }

  /** An EPB with a 64-bit timestamp count (in the interface's resolution). */
  epb(count: bigint, data: Buffer): this {
    const high = Number(count >> 32n);
    const low = Number(count & 0xffffffffn);
    return this.block(6, Buffer.concat([this.u32(0), this.u32(high), this.u32(low), this.u32(data.length), this.u32(data.length), data]));
  }

  /** A Simple Packet Block: no interface id, no timestamp. */
  spb(data: Buffer): this {
    return this.block(3, Buffer.concat([this.u32(data.length), data]));
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}
