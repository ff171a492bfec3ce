/**
 * Captures as arrays of packets that tests can delete, cut and reorder before feeding them to the
 * flow table or the pipeline (test/flow/*-reorder, lost-packets, test/inspect/lost-replies).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { forEachPcapRecord } from '../../src/bench/fuzz-targets/seed-streams.js';
import { CaptureRecord, type WritablePacket } from '../../src/capture/types.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind, TcpFlag } from '../../src/decode/packet.js';
import { FlowTable, PacketFlowResult, type FlowOptions } from '../../src/flow/flow-table.js';
import type { InterfaceAwareWriter } from '../../src/pipeline/types.js';
import { Recorder } from '../flow/recorder.js';
import { GENERATED_DIR, haveShared } from './shared.js';

/** The generated captures the reorder and loss tests work on (those present). */
export const SESSION_CAPTURES = ['02-ehlo-basic', '03-ehlo-pipelining', '04-starttls', '07c-rcpt-101', '12-unknown-commands', '15a-pipe-in-mail-from'];
export const sessionCaptureFiles = haveShared ? SESSION_CAPTURES.map((c) => path.join(GENERATED_DIR, `${c}.pcap`)).filter((f) => existsSync(f)) : [];

export interface CapturedPacket {
  linkType: number;
  /** The frame (a copy). */
  data: Buffer;
  tsSec: number;
  tsNsec: number;
  tcp: boolean;
  /** Offset of the TCP payload in `data` (data.length when not TCP). */
  payloadAt: number;
  /** TCP payload length (0 when not TCP). */
  len: number;
  toServer: boolean;
  fromServer: boolean;
  rst: boolean;
  seq: number;
  ack: number;
  flags: number;
}

/** Every record of a pcap, decoded once; server = port 25. */
export function loadPackets(file: string): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  const pkt = new DecodedPacket();
  forEachPcapRecord(readFileSync(file), file, (r) => {
    decodePacket(r.linkType, r.data, pkt);
    const tcp = pkt.kind === PacketKind.TCP;
    out.push({
      linkType: r.linkType,
      data: Buffer.from(r.data),
      tsSec: r.tsSec,
      tsNsec: r.tsNsec,
      tcp,
      payloadAt: tcp ? pkt.payloadOffset : r.data.length,
      len: tcp ? pkt.payloadLength : 0,
      toServer: tcp && pkt.dstPort === 25,
      fromServer: tcp && pkt.srcPort === 25,
      rst: tcp && (pkt.flags & TcpFlag.RST) !== 0,
      seq: tcp ? pkt.seq : 0,
      ack: tcp ? pkt.ack : 0,
      flags: tcp ? pkt.flags : 0,
    });
  });
  return out;
}

/** The TCP packets of a pcap (the flow-table tests). */
export const loadTcpPackets = (file: string): CapturedPacket[] => loadPackets(file).filter((p) => p.tcp);

export const identityOrder = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export interface FlowRun {
  c2s: string;
  s2c: string;
  /** [dir, offset, length] of every gap, c2s first. */
  gaps: [number, number, number][];
  /** The first close reason, or 'none'. */
  close: string;
}

/**
 * Runs packets through a flow table in the given order of indexes; timestamps keep their slots (the
 * i-th packet fed gets the i-th packet's time), then the table finishes one second after the last.
 */
export function runFlowOrder(recs: readonly CapturedPacket[], order: readonly number[], options: Partial<FlowOptions>): FlowRun {
  const rec = new Recorder();
  const table = new FlowTable(rec, options);
  const pkt = new DecodedPacket();
  const r = new PacketFlowResult();
  order.forEach((k, i) => {
    const p = recs[k]!;
    decodePacket(p.linkType, p.data, pkt);
    table.process(pkt, k + 1, recs[i]!.tsSec, recs[i]!.tsNsec, r);
  });
  const last = recs[recs.length - 1]!;
  table.finish(last.tsSec + 1, 0);
  const close = rec.events.find((e) => e.kind === 'close');
  return {
    c2s: rec.text(1, 0),
    s2c: rec.text(1, 1),
    gaps: [...rec.gaps(1, 0).map(([o, l]): [number, number, number] => [0, o, l]), ...rec.gaps(1, 1).map(([o, l]): [number, number, number] => [1, o, l])],
    close: close?.kind === 'close' ? close.reason : 'none',
  };
}

/** Keeps each written packet's bytes (a copy), in output order. */
export class MemoryWriter implements InterfaceAwareWriter {
  readonly frames: Buffer[] = [];
  get count(): number {
    return this.frames.length;
  }
  write(p: WritablePacket): void {
    this.frames.push(Buffer.from(p.data));
  }
  async close(): Promise<void> {}
}

/**
 * A capture record for the pipeline from a captured packet: `data` may be a cut of its frame (a
 * snaplen cut keeps the original length), the time is the slot's (reordered packets keep times in order).
 */
export function captureRecordOf(p: CapturedPacket, packetNumber: number, tsSec: number, tsNsec: number, data: Buffer = p.data): CaptureRecord {
  const r = new CaptureRecord();
  r.packetNumber = packetNumber;
  r.linkType = p.linkType;
  r.tsSec = tsSec;
  r.tsNsec = tsNsec;
  r.tsRawHigh = tsSec;
  r.data = data;
  r.captureLength = data.length;
  r.originalLength = p.data.length;
  return r;
}
