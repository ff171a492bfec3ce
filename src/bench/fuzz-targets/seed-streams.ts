/**
 * Seeds for the structure-level fuzz targets, made from real captures: the TCP segments of a
 * classic pcap (reassembly scripts) and the in-order SMTP streams of each connection (engine
 * scripts), extracted with our own reader, decoder and FlowTable. Synchronous, because a target's
 * seeds() is; seed files are written once to a cache folder under the OS temp directory.
 * Registers no fuzz target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePcapHeader, PcapRecordParser, PCAP_HEADER_BYTES } from '../../capture/pcap-reader.js';
import type { CaptureRecord } from '../../capture/types.js';
import { decodePacket } from '../../decode/decode.js';
import { DecodedPacket, PacketKind } from '../../decode/packet.js';
import { FlowTable, PacketFlowResult } from '../../flow/flow-table.js';
import type { Connection } from '../../flow/connection.js';
import type { Direction } from '../../flow/types.js';
import { captureFiles, SHARED_CAPTURES } from '../corpus.js';


/** Generated (real Postfix/swaks) captures, classic pcap, small enough to be seeds. */
export function generatedPcaps(maxBytes = 400_000): string[] {
  return captureFiles([path.join(SHARED_CAPTURES, 'generated')], maxBytes).filter((f) => f.endsWith('.pcap'));
}

/** Calls `each` for every record of a classic pcap held in memory (no-op for other formats). */
export function forEachPcapRecord(bytes: Buffer, file: string, each: (rec: CaptureRecord) => void): void {
  if (bytes.length < PCAP_HEADER_BYTES) return;
  let header;
  try {
    header = parsePcapHeader(bytes, file);
  } catch {
    return;
  }
  const parser = new PcapRecordParser(header, file);
  try {
    parser.parse(bytes, PCAP_HEADER_BYTES, bytes.length, 0, { onRecord: each, onInterface: undefined, stopped: false });
  } catch {
    // a damaged seed: what was read is enough
  }
}

export interface SeedSegment {
  /** Connection index in order of appearance. */
  conn: number;
  dir: Direction;
  flags: number;
  seq: number;
  ack: number;
  payload: Buffer;
  /** Bytes the snaplen cut after the payload. */
  missing: number;
  /** Milliseconds since the previous segment (capture time). */
  deltaMs: number;
}

const SERVER_PORTS = new Set([25, 587, 2525]);

/** Every TCP segment of a classic pcap, with its connection index and direction (client = non-server port side). */
export function pcapSegments(file: string): SeedSegment[] {
  const out: SeedSegment[] = [];
  const conns = new Map<string, number>();
  const pkt = new DecodedPacket();
  let lastMs = -1;
  forEachPcapRecord(fs.readFileSync(file), file, (rec) => {
    decodePacket(rec.linkType, rec.data, pkt);
    if (pkt.kind !== PacketKind.TCP) return;
    const toServer = SERVER_PORTS.has(pkt.dstPort);
    const clientPort = toServer ? pkt.srcPort : pkt.dstPort;
    const serverPort = toServer ? pkt.dstPort : pkt.srcPort;
    const key = `${clientPort}/${serverPort}`;
    let conn = conns.get(key);
    if (conn === undefined) {
      conn = conns.size;
      conns.set(key, conn);
    }
    const ms = rec.tsSec * 1000 + Math.floor(rec.tsNsec / 1e6);
    out.push({
      conn,
      dir: toServer ? 0 : 1,
      flags: pkt.flags,
      seq: pkt.seq,
      ack: pkt.ack,
      payload: Buffer.from(pkt.data.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength)),
      missing: pkt.payloadMissing,
      deltaMs: lastMs < 0 ? 0 : Math.max(0, ms - lastMs),
    });
    lastMs = ms;
  });
  return out;
}

/** One piece of a connection's reassembled traffic: bytes in one direction, or a hole. */
export interface StreamPiece {
  dir: Direction;
  bytes: Buffer;
  /** Length of a hole (bytes then empty), 0 for data. */
  gap: number;
}

/** The in-order pieces of every connection of a classic pcap, as FlowTable delivers them. */
export function connectionStreams(file: string): StreamPiece[][] {
  const byConn = new Map<number, StreamPiece[]>();
  const table = new FlowTable<unknown>(
    {
      onOpen(c: Connection) {
        byConn.set(c.id, []);
      },
      onData(c: Connection, dir, data) {
        byConn.get(c.id)?.push({ dir, bytes: Buffer.from(data), gap: 0 });
      },
      onGap(c: Connection, dir, _offset, length) {
        byConn.get(c.id)?.push({ dir, bytes: Buffer.alloc(0), gap: length });
      },
      onClose() {},
    },
    { serverPorts: null },
  );
  const pkt = new DecodedPacket();
  const r = new PacketFlowResult();
  let sec = 0;
  let nsec = 0;
  forEachPcapRecord(fs.readFileSync(file), file, (rec) => {
    decodePacket(rec.linkType, rec.data, pkt);
    table.process(pkt, rec.packetNumber, rec.tsSec, rec.tsNsec, r);
    sec = rec.tsSec;
    nsec = rec.tsNsec;
  });
  table.finish(sec, nsec);
  return [...byConn.values()].filter((p) => p.some((x) => x.bytes.length > 0));
}

let cacheDir: string | null = null;

/** Writes a generated seed once (content-addressed by name) and returns its path. */
export function cachedSeed(target: string, name: string, make: () => Buffer): string {
  cacheDir ??= path.join(os.tmpdir(), `smtp-inspect-fuzz-seeds-${process.getuid?.() ?? 0}`);
  const dir = path.join(cacheDir, target);
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, make());
    fs.renameSync(tmp, file);
  }
  return file;
}
