/**
 * Writers copy a packet straight from (buffer, offset, captureLength) when the packet offers them
 * (CaptureRecord, the pipeline's entries): the file must be byte for byte the one written from
 * `data` views, for pcap and pcapng, and the window bytes around the packet must never leak in.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import { createPcapngWriter } from '../../src/capture/pcapng-writer.js';
import { CaptureRecord, type CaptureInterface, type PacketWriter, type PcapFileHeader } from '../../src/capture/types.js';

const HEADER: PcapFileHeader = { littleEndian: true, nanosecond: false, versionMajor: 2, versionMinor: 4, thisZone: 0, sigFigs: 0, snaplen: 65535, linkTypeWord: 1, linkType: 1 };
const IFACE: CaptureInterface = {
  index: 0, section: 0, linkType: 1, snaplen: 65535, tsResolutionBase: 10, tsResolutionExponent: 6, tsOffsetSeconds: 0,
  name: null, description: null, rawOptions: null, littleEndian: true,
};

const packet = fc.record({
  before: fc.integer({ min: 0, max: 40 }),
  bytes: fc.uint8Array({ minLength: 0, maxLength: 200 }),
  after: fc.integer({ min: 0, max: 40 }),
  sec: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  usec: fc.integer({ min: 0, max: 999_999 }),
  comment: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
});

type Pkt = { before: number; bytes: Uint8Array; after: number; sec: number; usec: number; comment: string | null };

async function writeAll(make: (dest: string) => PacketWriter, pkts: Pkt[], viaBuffer: boolean, dir: string, name: string): Promise<Buffer> {
  const dest = path.join(dir, name);
  const w = make(dest);
  for (const p of pkts) {
    const rec = new CaptureRecord();
    const window = Buffer.concat([Buffer.alloc(p.before, 0xee), Buffer.from(p.bytes), Buffer.alloc(p.after, 0xdd)]);
    if (viaBuffer) rec.setBytes(window, p.before, p.bytes.length);
    else rec.data = Buffer.from(p.bytes);
    rec.tsSec = p.sec;
    rec.tsNsec = p.usec * 1000;
    rec.tsRawHigh = p.sec;
    rec.tsRawLow = p.usec;
    rec.originalLength = p.bytes.length + 3;
    if (viaBuffer) w.write(rec, p.comment === null ? null : [p.comment]);
    else w.write({ interfaceIndex: 0, tsSec: rec.tsSec, tsNsec: rec.tsNsec, tsRawHigh: rec.tsRawHigh, tsRawLow: rec.tsRawLow, originalLength: rec.originalLength, data: rec.data }, p.comment === null ? null : [p.comment]);
  }
  await w.close();
  return readFileSync(dest);
}

describe('writers: zero-copy source (buffer, offset, captureLength)', () => {
  it('pcap and pcapng files equal those written from data views', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'writer-source-'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { maxLength: 12 }), async (pkts) => {
        n++;
        const pcap = (d: string) => createPcapWriter(d, HEADER);
        const pcapng = (d: string) => createPcapngWriter(d, { interfaces: [IFACE] });
        expect(await writeAll(pcap, pkts, true, dir, `a${n}.pcap`)).toEqual(await writeAll(pcap, pkts, false, dir, `b${n}.pcap`));
        expect(await writeAll(pcapng, pkts, true, dir, `a${n}.pcapng`)).toEqual(await writeAll(pcapng, pkts, false, dir, `b${n}.pcapng`));
      }),
      { numRuns: 60 },
    );
  });
});
