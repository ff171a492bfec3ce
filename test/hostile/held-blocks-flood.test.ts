/**
 * A flood of pcapng blocks that carry no packet (custom, DSB, NRB, ISB) read while a packet is held
 * back: each block is kept (a copy) until the held packet before it is written, so it keeps its
 * place (test/pipeline/held-input-blocks.test.ts). Those copies count against the hold-back limits
 * (--max-held packets, 64 MiB): a block as a packet, plus its bytes.
 *
 * Regression: they were not counted. One IP fragment whose datagram never completes, followed by
 * 1 M custom blocks (24 MB file), took replay from 70 MB to 327 MB peak RSS, and 4,000 60 KB
 * DSBs (260 MB) to 326 MB: memory grew with the input while the queue said "1 packet held".
 * After: 76 MB and 139 MB (the 64 MiB byte bound), the packet forwarded undecided with a
 * hold-back-limit verdict, every block written after it in input order.
 *
 * Input: fixtures/frag-v4-12-unknown-commands.pcap (a real Postfix session, some datagrams sent as
 * IPv4 fragments) as pcapng with N custom blocks right after the first fragment of the first datagram.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPackets } from '../helpers/capture-packets.js';
import { pcapngLayout } from '../helpers/pcapng-layout.js';
import { block, epb, idb, shb, w32 } from '../capture/model.js';
import { replayToTemp } from '../replay/helpers.js';
import { HoldQueue } from '../../src/pipeline/hold-queue.js';
import { CaptureBlock } from '../../src/capture/types.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'pipeline', 'fixtures', 'frag-v4-12-unknown-commands.pcap');
const le = true;
const BLOCKS = 300;
const MAX_HELD = 20;


describe('packet-less blocks held behind an undecided packet count against the hold-back limit', () => {
  const packets = loadPackets(SRC);
  const first = packets.findIndex((p) => (p.data.readUInt16BE(20) & 0x3fff) === 0x2000);
  const dir = mkdtempSync(path.join(tmpdir(), 'held-flood-'));
  const input = path.join(dir, 'in.pcapng');
  const parts = [shb(le), idb(le, packets[0]!.linkType, 262144)];
  packets.forEach((p, i) => {
    parts.push(epb(le, 0, BigInt(p.tsSec) * 1_000_000n + BigInt(Math.floor(p.tsNsec / 1000)), p.data));
    if (i === first) for (let k = 0; k < BLOCKS; k++) parts.push(block(0xbad, Buffer.concat([w32(32473, le), Buffer.from(`b${k}`)]), le));
  });
  writeFileSync(input, Buffer.concat(parts));

  it(`${BLOCKS} custom blocks after a held fragment with --max-held ${MAX_HELD}: the limit bites, every block is written in order`, async () => {
    expect(first).toBeGreaterThanOrEqual(0);
    const r = await replayToTemp(input, { maxHeld: String(MAX_HELD) }, '.pcapng');
    // Without counting the blocks: nothing forced, all 300 copies held (maxHeld stays small).
    expect(r.summary.packets.forcedForward).toBeGreaterThanOrEqual(1);
    // A fragment has no connection yet, so the reason is in the annotated capture's comment.
    expect(readFileSync(r.annotate).toString('latin1')).toMatch(/hold-back limit \(20 packets \/ \d+ bytes; \d+ pcapng block\(s\) without a packet held among them count as packets\)/);
    // Every packet and block accounted for, blocks in input order in both outputs.
    expect(r.summary.packets.out).toBe(packets.length);
    expect(pcapngLayout(r.out)).toEqual(pcapngLayout(input));
    expect(pcapngLayout(r.annotate)).toEqual(pcapngLayout(input));
  });

  it('HoldQueue counts a held block and its bytes until its packet leaves the queue', () => {
    const q = new HoldQueue();
    const e = q.blank();
    q.push(e);
    const b = new CaptureBlock();
    b.length = 60_000;
    for (let k = 0; k < 3; k++) q.attachBlock(b);
    expect([q.size, q.blocks, q.bytes]).toEqual([1, 3, 180_000]);
    q.shift();
    expect([q.size, q.blocks, q.bytes]).toEqual([0, 0, 0]);
  });
});
