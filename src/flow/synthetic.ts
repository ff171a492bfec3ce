/**
 * Builds DecodedPacket values for TCP segments without a capture: for reassembly tests, the
 * half-open flood and the reassembly bench. The backing buffer holds only what the flow table
 * reads (the two addresses, then the payload); header fields are set directly.
 */
import { DecodedPacket, PacketKind, TcpFlag } from '../decode/packet.js';
import type { Direction } from './types.js';

export const F = TcpFlag;

export interface SegmentOptions {
  ack?: number;
  flags?: number;
  window?: number;
  /** Bytes the snaplen cut after the payload. */
  missing?: number;
}

/** One TCP connection's two endpoints; makes segments in either direction. */
export class SyntheticConnection {
  private readonly client: Buffer;
  private readonly server: Buffer;

  constructor(
    clientIp: string,
    readonly clientPort: number,
    serverIp: string,
    readonly serverPort: number,
  ) {
    this.client = parseIp(clientIp);
    this.server = parseIp(serverIp);
    if (this.client.length !== this.server.length) throw new Error('mixed IPv4/IPv6 endpoints');
  }

  /** A fresh DecodedPacket for one segment (tests keep several at once). */
  segment(dir: Direction, seq: number, payload: Buffer | string = '', opt: SegmentOptions = {}): DecodedPacket {
    return this.fill(new DecodedPacket(), dir, seq, payload, opt);
  }

  /** Re-points `out` at a new segment (benches: no allocation besides the data buffer). */
  fill(out: DecodedPacket, dir: Direction, seq: number, payload: Buffer | string, opt: SegmentOptions = {}): DecodedPacket {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    const alen = this.client.length;
    const data = Buffer.allocUnsafe(2 * alen + body.length);
    const src = dir === 0 ? this.client : this.server;
    const dst = dir === 0 ? this.server : this.client;
    src.copy(data, 0);
    dst.copy(data, alen);
    body.copy(data, 2 * alen);
    setHeader(out, data, alen, dir === 0 ? this.clientPort : this.serverPort, dir === 0 ? this.serverPort : this.clientPort, seq, body.length, opt);
    return out;
  }
}

/** Sets the TCP fields of `out` over `data` = [src addr][dst addr][payload]. */
export function setHeader(out: DecodedPacket, data: Buffer, alen: number, srcPort: number, dstPort: number, seq: number, payloadLength: number, opt: SegmentOptions): void {
  out.data = data;
  out.packetStart = 0;
  out.packetEnd = data.length;
  out.kind = PacketKind.TCP;
  out.ipVersion = alen === 16 ? 6 : 4;
  out.addrLength = alen;
  out.srcAddrOffset = 0;
  out.dstAddrOffset = alen;
  out.protocol = 6;
  out.srcPort = srcPort;
  out.dstPort = dstPort;
  out.seq = seq >>> 0;
  out.ack = (opt.ack ?? 0) >>> 0;
  out.flags = opt.flags ?? TcpFlag.ACK;
  out.window = opt.window ?? 65535;
  out.payloadOffset = 2 * alen;
  out.payloadLength = payloadLength;
  out.payloadMissing = opt.missing ?? 0;
  out.truncated = (opt.missing ?? 0) > 0;
  out.ipEnd = data.length;
}

export function parseIp(text: string): Buffer {
  if (text.includes(':')) {
    const [headText, tailText] = text.split('::') as [string, string | undefined];
    const head = headText ? headText.split(':') : [];
    const tail = tailText ? tailText.split(':') : [];
    const words = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
    const b = Buffer.alloc(16);
    words.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), 2 * i));
    return b;
  }
  return Buffer.from(text.split('.').map((x) => Number(x)));
}
