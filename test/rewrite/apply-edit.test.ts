import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyStreamEdit } from '../../src/rewrite/apply-edit.js';
import { EditHistory } from '../../src/rewrite/edit-history.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket } from '../../src/decode/packet.js';
import { buildFrame, naiveSum, storedTcpChecksum, tcpChecksumOf, V4_CLIENT, V4_SERVER, V6_CLIENT, V6_SERVER } from './build-packet.js';

const BANNER = Buffer.from('220 mail.example.test ESMTP Postfix\r\n');

function frame(ipVersion: 4 | 6, checksumError = 0, payload = BANNER): Buffer {
  return buildFrame({
    ipVersion,
    src: ipVersion === 4 ? V4_SERVER : V6_SERVER,
    dst: ipVersion === 4 ? V4_CLIENT : V6_CLIENT,
    srcPort: 25,
    dstPort: 40000,
    seq: 1000,
    ack: 2000,
    flags: 0x18,
    payload,
    checksumError,
  });
}

function payloadOf(buf: Buffer, pkt: DecodedPacket): string {
  return buf.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength).toString('latin1');
}

describe('applyStreamEdit', () => {
  for (const v of [4, 6] as const) {
    it(`IPv${v}: masks the stream range inside the packet and keeps a valid checksum valid (incremental)`, () => {
      const buf = frame(v);
      const pkt = decodePacket(1, buf, new DecodedPacket());
      // The packet's payload starts at stream offset 100; the edit covers offsets 104..120.
      const changed = applyStreamEdit(pkt, 100, 104, Buffer.from('*'.repeat(16)), 'incremental');
      expect(payloadOf(buf, pkt)).toBe('220 ****************t ESMTP Postfix\r\n');
      expect(changed).toBe(16);
      expect(storedTcpChecksum(buf, v)).toBe(tcpChecksumOf(buf, v));
    });

    it(`IPv${v}: an offload-wrong checksum stays wrong by the same amount (incremental)`, () => {
      const buf = frame(v, 0x1111);
      const pkt = decodePacket(1, buf, new DecodedPacket());
      applyStreamEdit(pkt, 0, 5, Buffer.from('XXXXXXX'), 'incremental');
      expect((storedTcpChecksum(buf, v) - tcpChecksumOf(buf, v)) & 0xffff).toBe(0x1111);
    });

    it(`IPv${v}: fix recomputes, keep leaves the field`, () => {
      const a = frame(v, 0x22);
      const pa = decodePacket(1, a, new DecodedPacket());
      applyStreamEdit(pa, 0, 4, Buffer.from('****'), 'fix');
      expect(storedTcpChecksum(a, v)).toBe(tcpChecksumOf(a, v));
      const b = frame(v);
      const before = storedTcpChecksum(b, v);
      const pb = decodePacket(1, b, new DecodedPacket());
      applyStreamEdit(pb, 0, 4, Buffer.from('****'), 'keep');
      expect(storedTcpChecksum(b, v)).toBe(before);
    });
  }

  it('clips edits that start before or end after the packet, and is idempotent', () => {
    const buf = frame(4);
    const pkt = decodePacket(1, buf, new DecodedPacket());
    // Packet covers stream [10, 10+37). Edit covers [0, 14): only the first 4 payload bytes change.
    expect(applyStreamEdit(pkt, 10, 0, Buffer.from('A'.repeat(14)), 'incremental')).toBe(4);
    expect(payloadOf(buf, pkt).startsWith('AAAAmail')).toBe(true);
    // Edit reaching past the end.
    expect(applyStreamEdit(pkt, 10, 10 + 35, Buffer.from('ZZZZZZ'), 'incremental')).toBe(2);
    expect(payloadOf(buf, pkt).endsWith('xZZ')).toBe(true);
    const snapshot = Buffer.from(buf);
    expect(applyStreamEdit(pkt, 10, 0, Buffer.from('A'.repeat(14)), 'incremental')).toBe(0);
    expect(buf.equals(snapshot)).toBe(true);
    expect(applyStreamEdit(pkt, 10, 100, Buffer.from('Q'), 'incremental')).toBe(0);
  });

  it('property: any same-length edit at any position keeps the checksum relation (valid or off by k)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        fc.nat(100),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom(4 as const, 6 as const),
        (payload, at, repl, err, v) => {
          const buf = frame(v, err, Buffer.from(payload));
          const pkt = decodePacket(1, buf, new DecodedPacket());
          // The error measured in one's-complement arithmetic (where 0x0000 and 0xFFFF are both zero).
          const error = () => {
            const s = naiveSum([0, 0]) + storedTcpChecksum(buf, v) + (~tcpChecksumOf(buf, v) & 0xffff);
            const f = (s & 0xffff) + (s >>> 16);
            return f === 0xffff ? 0 : f;
          };
          const before = error();
          applyStreamEdit(pkt, 0, at % payload.length, Buffer.from(repl), 'incremental');
          return error() === before;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('EditHistory', () => {
  it('finds overlapping edits and forgets the oldest beyond its limit', () => {
    const h = new EditHistory(2);
    h.add({ offset: 0, bytes: Buffer.from('***'), rule: 'mask-banner', action: 'mask' });
    h.add({ offset: 10, bytes: Buffer.from('XXXX'), rule: 'unknown-command', action: 'x-substitute' });
    const seen: number[] = [];
    h.forEachOverlapping(2, 11, (e) => seen.push(e.offset));
    expect(seen).toEqual([0, 10]);
    h.add({ offset: 20, bytes: Buffer.from('X'), rule: 'unknown-command', action: 'x-substitute' });
    seen.length = 0;
    h.forEachOverlapping(0, 100, (e) => seen.push(e.offset));
    expect(seen).toEqual([10, 20]);
    expect(h.forgotten).toBe(1);
    expect(h.forgottenBelow).toBe(3);
    seen.length = 0;
    h.forEachOverlapping(21, 30, (e) => seen.push(e.offset));
    expect(seen).toEqual([]);
  });
});

describe('EditHistory storage', () => {
  it('uniform edits kept as their value give the same bytes back; others are copies', () => {
    const h = new EditHistory(8);
    const src = Buffer.from('AbC');
    h.addCopy(5, Buffer.alloc(4, 0x58), 'unknown-command', 'x-substitute');
    h.addCopy(20, src, 'replace', 'replace');
    h.addCopy(40, Buffer.alloc(5000, 0x2a), 'mask-banner', 'mask');
    src.fill(0); // the caller's buffer is only valid during the call
    expect(h.size).toBe(3);
    expect([h.offset(0), h.bytes(0).toString('latin1'), h.rule(0), h.action(0)]).toEqual([5, 'XXXX', 'unknown-command', 'x-substitute']);
    expect(h.bytes(1).toString('latin1')).toBe('AbC');
    expect(h.bytes(2).length).toBe(5000);
    expect(h.bytes(2).every((b) => b === 0x2a)).toBe(true);
    expect(h.next(0, 6, 0)).toBe(0);
    expect(h.next(9, 20, 0)).toBe(-1);
    expect(h.next(9, 21, 0)).toBe(1);
    expect(h.maxEnd).toBe(5040);
  });

  it('behaves like a plain list of the last `limit` edits (random adds, look-ups)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 9 }), fc.boolean()), { maxLength: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 220 }), fc.integer({ min: 0, max: 30 })), { maxLength: 10 }),
        (limit, adds, queries) => {
          const h = new EditHistory(limit);
          const model: { offset: number; bytes: string }[] = [];
          adds.forEach(([off, len, uniform], k) => {
            const bytes = uniform ? Buffer.alloc(len, 0x58) : Buffer.from(Array.from({ length: len }, (_, i) => 0x41 + ((i + k) % 26)));
            h.addCopy(off, bytes, `r${k}`, 'mask');
            model.push({ offset: off, bytes: bytes.toString('latin1') });
            if (model.length > limit) model.shift();
          });
          expect(h.size).toBe(model.length);
          for (const [s, n] of queries) {
            const got: string[] = [];
            h.forEachOverlapping(s, s + n, (e) => got.push(`${e.offset}:${e.bytes.toString('latin1')}`));
            const want = model.filter((m) => n > 0 && m.offset < s + n && m.offset + m.bytes.length > s).map((m) => `${m.offset}:${m.bytes}`);
            expect(got).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
