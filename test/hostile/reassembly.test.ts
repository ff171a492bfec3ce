/**
 * Findings of the reassembly fuzz target pinned as tests (the fuzz target itself checks the
 * memory-relevant form of each limit, so it does not keep reporting a known difference).
 */
import { describe, expect, it } from 'vitest';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import { runReassemblyScript, scriptRecord, SCRIPT_HEADER } from '../../src/bench/fuzz-targets/reassembly.js';

const NULL = { onOpen() {}, onData() {}, onGap() {}, onClose() {} };

describe('out-of-order limit with snaplen-cut segments', () => {
  // Found by the reassembly fuzz target: FlowTable.place() counts a cut segment as one piece in
  // its limit check (pass 1) but holds it as two entries (the bytes, plus a byte-less marker for
  // the cut tail), so maxOutOfOrderPacketsPerDirection is exceeded and, in the ASA profile
  // (3 packets, 'drop'), the third cut out-of-order packet is dropped although only two are held.
  // Fixed: the limit now counts held packets (HalfStream.queuedPackets), not queue entries.
  it('a cut out-of-order segment counts once against maxOutOfOrderPacketsPerDirection', () => {
    const t = new FlowTable(NULL, { maxOutOfOrderPacketsPerDirection: 1 });
    const c = new SyntheticConnection('10.0.0.1', 40000, '192.0.2.25', 25);
    const r = new PacketFlowResult();
    t.process(c.segment(0, 1000, '', { flags: F.SYN }), 1, 1, 0, r);
    t.process(c.segment(0, 1001 + 5000, Buffer.alloc(300, 0x41), { missing: 1000 }), 2, 1, 0, r);
    const conn = [...t.connections()][0]!;
    // Held as two entries (its bytes and a marker for the cut tail) but counted as one packet.
    expect(conn.half[0].queueLength).toBe(2);
    expect(conn.half[0].queuedPackets).toBe(1);
    expect(t.stats.outOfOrderLimitHits).toBe(0);
  });

  it('ASA profile (3 packets, drop): three cut out-of-order packets are all held', () => {
    const t = new FlowTable(NULL, { maxOutOfOrderPacketsPerDirection: 3, onOutOfOrderLimit: 'drop' });
    const c = new SyntheticConnection('10.0.0.1', 40000, '192.0.2.25', 25);
    const r = new PacketFlowResult();
    t.process(c.segment(0, 1000, '', { flags: F.SYN }), 1, 1, 0, r);
    for (let i = 0; i < 3; i++) t.process(c.segment(0, 1001 + 5000 * (i + 1), Buffer.alloc(300, 0x41), { missing: 1000 }), 2 + i, 1, 0, r);
    expect(t.stats.outOfOrderDrops).toBe(0);
  });

  it('held segments with bytes stay within the limit (what the fuzz target checks)', () => {
    const header = Buffer.from([0, 0, 0, 0xff, 0xff, 0, 0, 10]);
    const recs = [scriptRecord(0, 0, F.SYN, 1000, 0, Buffer.alloc(0), 0)];
    for (let i = 1; i <= 5; i++) recs.push(scriptRecord(0, 0, F.ACK, 1001 + 5000 * i, 0, Buffer.alloc(40, 0x41), 1, 1000));
    const s = runReassemblyScript(Buffer.concat([header.subarray(0, SCRIPT_HEADER), ...recs]));
    expect(s.outOfOrderLimitHits).toBeGreaterThan(0);
    expect(s.gaps).toBeGreaterThan(0);
  });
});

