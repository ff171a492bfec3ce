/**
 * A synthetic flood of half-open connections (one SYN each, distinct 4-tuples) through a FlowTable:
 * the memory cost of tracked connections, measured outside the test suite (bench, scripts).
 */
import { DecodedPacket, TcpFlag } from '../decode/packet.js';
import { FlowTable, PacketFlowResult, type FlowOptions } from './flow-table.js';
import { setHeader } from './synthetic.js';
import type { Connection } from './connection.js';
import type { StreamListener } from './types.js';

export interface FloodResult {
  connections: number;
  embryonic: number;
  seconds: number;
  /** Heap growth per tracked connection (bytes), from process.memoryUsage() around the flood (after GC when exposed). */
  heapBytesPerConnection: number;
  heapUsedBytes: number;
  rssBytes: number;
}

const NULL_LISTENER: StreamListener<Connection> = {
  onOpen() {},
  onData() {},
  onGap() {},
  onClose() {},
};

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

/** Opens `count` half-open connections (all within the half-open timeout) and measures memory. */
export function halfOpenFlood(count: number, options: Partial<FlowOptions> = {}): FloodResult {
  const table = new FlowTable(NULL_LISTENER, { maxConnections: Math.max(count, 1), ...options });
  const pkt = new DecodedPacket();
  const data = Buffer.alloc(8);
  data.writeUInt32BE(0xc0000201, 4); // server 192.0.2.1
  const r = new PacketFlowResult();
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    // client 10.x.y.z, port 1024 + (i mod 60000): distinct tuples
    data.writeUInt32BE((0x0a000000 + Math.floor(i / 60000)) >>> 0, 0);
    setHeader(pkt, data, 4, 1024 + (i % 60000), 25, (i * 2654435761) >>> 0, 0, { flags: TcpFlag.SYN, window: 64240 });
    table.process(pkt, i + 1, 1_700_000_000, i, r);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  gc();
  const mem = process.memoryUsage();
  const result: FloodResult = {
    connections: table.size,
    embryonic: table.stats.embryonic,
    seconds,
    heapBytesPerConnection: Math.round((mem.heapUsed - before) / Math.max(1, table.size)),
    heapUsedBytes: mem.heapUsed,
    rssBytes: mem.rss,
  };
  return result;
}
