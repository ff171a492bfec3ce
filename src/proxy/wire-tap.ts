/**
 * `proxy --write FILE.pcap`: both legs of every proxied connection as a synthetic capture. The proxy
 * terminates TCP, so there are no real packets to keep; each read or write becomes one fabricated
 * IPv4/IPv6 + TCP packet (raw IP, LINKTYPE_RAW 101) with the legs' real addresses and ports,
 * consistent sequence/acknowledgement numbers, a handshake, FIN/RST as they happened and valid
 * checksums. The client leg (client <-> proxy listen port) shows what the client sent and received;
 * the server leg (proxy <-> upstream) shows what the proxy forwarded, so the two can be compared.
 */
import net from 'node:net';
import { createPcapWriter, nanosecondPcapHeader } from '../capture/pcap-writer.js';
import type { PacketWriter, WritablePacket } from '../capture/types.js';
import { ArrivalClock } from '../capture/live-clock.js';
import { onesComplementSum } from '../decode/checksum.js';
import type { Direction } from '../flow/types.js';
import type { Endpoint, Leg, WireTap } from './types.js';

const LINKTYPE_RAW = 101;
/** Payload per fabricated segment: keeps the IPv4 total length below 65535. */
const MAX_SEGMENT = 65000;
const FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

interface LegState {
  ends: [Endpoint, Endpoint];
  v6: boolean;
  /** Next sequence number sent by end 0 (towards the server side) and end 1. */
  seq: [number, number];
  ipId: number;
}

function addrBytes(ip: string, v6: boolean): Buffer {
  if (!v6) return Buffer.from(ip.split('.').map((x) => Number(x) & 0xff));
  const out = Buffer.alloc(16);
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16) & 0xffff, i * 2));
  return out;
}

/** One IPv4 or IPv6 packet carrying a TCP segment, checksums filled in. */
export function buildTcpPacket(src: Endpoint, dst: Endpoint, v6: boolean, seq: number, ack: number, flags: number, payload: Buffer, ipId: number): Buffer {
  const ipLen = v6 ? 40 : 20;
  const tcpLen = 20;
  const pkt = Buffer.alloc(ipLen + tcpLen + payload.length);
  const s = addrBytes(src.ip, v6);
  const d = addrBytes(dst.ip, v6);
  if (v6) {
    pkt.writeUInt32BE(0x60000000, 0);
    pkt.writeUInt16BE(tcpLen + payload.length, 4);
    pkt[6] = 6;
    pkt[7] = 64;
    s.copy(pkt, 8);
    d.copy(pkt, 24);
  } else {
    pkt[0] = 0x45;
    pkt.writeUInt16BE(pkt.length, 2);
    pkt.writeUInt16BE(ipId & 0xffff, 4);
    pkt.writeUInt16BE(0x4000, 6); // DF
    pkt[8] = 64;
    pkt[9] = 6;
    s.copy(pkt, 12);
    d.copy(pkt, 16);
    pkt.writeUInt16BE(~onesComplementSum(pkt, 0, 20) & 0xffff, 10);
  }
  const t = ipLen;
  pkt.writeUInt16BE(src.port, t);
  pkt.writeUInt16BE(dst.port, t + 2);
  pkt.writeUInt32BE(seq >>> 0, t + 4);
  pkt.writeUInt32BE(flags & FLAG.ACK ? ack >>> 0 : 0, t + 8);
  pkt[t + 12] = (tcpLen / 4) << 4;
  pkt[t + 13] = flags;
  pkt.writeUInt16BE(65535, t + 14);
  payload.copy(pkt, t + tcpLen);
  // Pseudo-header: addresses, protocol, TCP length.
  const segLen = tcpLen + payload.length;
  let sum = onesComplementSum(s, 0, s.length);
  sum = onesComplementSum(d, 0, d.length, sum);
  sum = onesComplementSum(pkt, t, pkt.length, sum + 6 + segLen);
  pkt.writeUInt16BE(~sum & 0xffff || 0xffff, t + 16);
  return pkt;
}

export interface FileWireTap extends WireTap {
  /** Packets written so far. */
  readonly count: number;
  /** Closes the file (connections still open simply end there). */
  finish(): Promise<void>;
}

class PcapWireTap implements FileWireTap {
  private readonly writer: PacketWriter;
  private readonly clock = new ArrivalClock();
  private readonly legs = new Map<string, LegState>();
  private readonly pkt: WritablePacket = { interfaceIndex: 0, tsSec: 0, tsNsec: 0, tsRawHigh: 0, tsRawLow: 0, originalLength: 0, data: Buffer.alloc(0) };
  private finished = false;

  constructor(path: string) {
    this.writer = createPcapWriter(path, nanosecondPcapHeader(LINKTYPE_RAW, 262144));
  }

  get count(): number {
    return this.writer.count;
  }

  private emit(leg: LegState, dir: Direction, flags: number, payload: Buffer): void {
    if (this.finished) return;
    const src = leg.ends[dir];
    const dst = leg.ends[dir === 0 ? 1 : 0];
    const data = buildTcpPacket(src, dst, leg.v6, leg.seq[dir], leg.seq[dir === 0 ? 1 : 0], flags, payload, leg.ipId++);
    this.clock.stamp(this.pkt);
    this.pkt.tsRawHigh = this.pkt.tsSec;
    this.pkt.tsRawLow = this.pkt.tsNsec;
    this.pkt.data = data;
    this.pkt.originalLength = data.length;
    this.writer.write(this.pkt);
    leg.seq[dir] = (leg.seq[dir] + payload.length + (flags & (FLAG.SYN | FLAG.FIN) ? 1 : 0)) >>> 0;
  }

  open(id: number, client: Endpoint, proxyFront: Endpoint, proxyBack: Endpoint, upstream: Endpoint): void {
    const mk = (a: Endpoint, b: Endpoint): LegState => ({
      ends: [a, b],
      v6: net.isIPv6(a.ip),
      // Deterministic per connection so two runs of the same test give comparable files.
      seq: [(id * 0x01000193) >>> 0, (id * 0x9e3779b1) >>> 0],
      ipId: id * 7,
    });
    for (const [leg, st] of [
      ['client', mk(client, proxyFront)],
      ['server', mk(proxyBack, upstream)],
    ] as const) {
      this.legs.set(`${id}/${leg}`, st);
      this.emit(st, 0, FLAG.SYN, Buffer.alloc(0));
      this.emit(st, 1, FLAG.SYN | FLAG.ACK, Buffer.alloc(0));
      this.emit(st, 0, FLAG.ACK, Buffer.alloc(0));
    }
  }

  data(id: number, leg: Leg, dir: Direction, bytes: Buffer): void {
    const st = this.legs.get(`${id}/${leg}`);
    if (!st) return;
    for (let off = 0; off < bytes.length; off += MAX_SEGMENT) {
      this.emit(st, dir, FLAG.PSH | FLAG.ACK, bytes.subarray(off, Math.min(bytes.length, off + MAX_SEGMENT)));
    }
  }

  fin(id: number, leg: Leg, dir: Direction): void {
    const st = this.legs.get(`${id}/${leg}`);
    if (st) this.emit(st, dir, FLAG.FIN | FLAG.ACK, Buffer.alloc(0));
  }

  rst(id: number, leg: Leg, dir: Direction): void {
    const st = this.legs.get(`${id}/${leg}`);
    if (st) this.emit(st, dir, FLAG.RST | FLAG.ACK, Buffer.alloc(0));
  }

  close(id: number): void {
    this.legs.delete(`${id}/client`);
    this.legs.delete(`${id}/server`);
  }

  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.writer.close();
  }
}

export function createWireTap(path: string): FileWireTap {
  return new PcapWireTap(path);
}
