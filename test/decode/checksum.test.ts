import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { LinkType } from '../../src/decode/link-types.js';
import {
  onesComplementSum, adjustChecksum, applyPayloadEdit, computeTcpChecksum, tcpChecksumOk, writeTcpChecksum,
  computeIpv4HeaderChecksum, ipv4HeaderChecksumOk,
} from '../../src/decode/checksum.js';
import { ZEEK_SYNACK, ZEEK_IPV6_SYNACK, EHLO } from './vectors.js';

/** The obviously-correct model: RFC 1071 word by word, folding after every addition. */
function naiveSum(buf: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) {
    const w = (buf[i]! << 8) | (i + 1 < end ? buf[i + 1]! : 0);
    s += w;
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return s;
}

/** An Ethernet + IPv4/IPv6 + TCP frame around `payload`, checksums computed by the code under test. */
function buildFrame(v6: boolean, addrs: Uint8Array, tcpOpts: number, payload: Uint8Array): Buffer {
  const tcpLen = 20 + tcpOpts * 4 + payload.length;
  const ipLen = v6 ? 40 : 20;
  const f = Buffer.alloc(14 + ipLen + tcpLen);
  f.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  if (v6) {
    f[14] = 0x60;
    f.writeUInt16BE(tcpLen, 18);
    f[20] = 6;
    f[21] = 64;
    f.set(addrs.subarray(0, 32), 22);
  } else {
    f[14] = 0x45;
    f.writeUInt16BE(20 + tcpLen, 16);
    f[22] = 64;
    f[23] = 6;
    f.set(addrs.subarray(0, 8), 26);
  }
  const t = 14 + ipLen;
  f.writeUInt16BE(25, t);
  f.writeUInt16BE(40000, t + 2);
  f.writeUInt32BE(0xfffffff0, t + 4);
  f[t + 12] = (5 + tcpOpts) << 4;
  f[t + 13] = 0x18;
  for (let i = 0; i < tcpOpts * 4; i++) f[t + 20 + i] = 1; // NOPs
  f.set(payload, t + 20 + tcpOpts * 4);
  const p = decodePacket(LinkType.ETHERNET, f, new DecodedPacket());
  writeTcpChecksum(p, computeTcpChecksum(p));
  if (!v6) f.writeUInt16BE(computeIpv4HeaderChecksum(p), 24);
  return f;
}

const arbFrame = fc.record({
  v6: fc.boolean(),
  addrs: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  opts: fc.integer({ min: 0, max: 10 }),
  payload: fc.uint8Array({ minLength: 1, maxLength: 1600 }),
});

describe('onesComplementSum', () => {
  it('equals the word-by-word model for any bytes, start and end (odd lengths included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 0xffff }), (b, x, y, init) => {
        const start = b.length ? x % (b.length + 1) : 0;
        const end = start + (b.length - start ? y % (b.length - start + 1) : 0);
        let expected = naiveSum(b, start, end) + init;
        if (expected > 0xffff) expected = (expected & 0xffff) + 1;
        expect(onesComplementSum(b, start, end, init)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('folds a sum far beyond 32 bits correctly (1 MB of 0xFF)', () => {
    const b = new Uint8Array(1 << 20).fill(0xff);
    expect(onesComplementSum(b, 0, b.length)).toBe(0xffff);
    expect(onesComplementSum(b, 0, b.length)).toBe(naiveSum(b, 0, b.length));
  });
});

describe('full recompute', () => {
  it('generated frames verify, and any single flipped byte breaks the TCP checksum', () => {
    fc.assert(
      fc.property(arbFrame, fc.nat(), fc.integer({ min: 1, max: 255 }), (g, at, xor) => {
        const f = buildFrame(g.v6, g.addrs, g.opts, g.payload);
        const p = decodePacket(LinkType.ETHERNET, f, new DecodedPacket());
        expect(p.kind).toBe(PacketKind.TCP);
        expect(tcpChecksumOk(p)).toBe(true);
        if (!g.v6) expect(ipv4HeaderChecksumOk(p)).toBe(true);
        const i = p.payloadOffset + (at % p.payloadLength);
        f[i] = f[i]! ^ xor;
        expect(tcpChecksumOk(p)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('stored 0xFFFF and 0x0000 are the same value: a segment whose checksum is 0 verifies either way', () => {
    // Tune two payload bytes so the correct checksum is exactly 0x0000.
    const f = buildFrame(false, new Uint8Array(32).fill(7), 0, Buffer.from('ABCDxx\r\n', 'latin1'));
    const p = decodePacket(LinkType.ETHERNET, f, new DecodedPacket());
    f.writeUInt16BE(0, p.payloadOffset + 4);
    writeTcpChecksum(p, 0);
    const sumWithZero = ~computeTcpChecksum(p) & 0xffff; // folded sum with the filler at 0
    f.writeUInt16BE((~sumWithZero & 0xffff) === 0 ? 0 : 0xffff - sumWithZero, p.payloadOffset + 4);
    expect(computeTcpChecksum(p)).toBe(0);
    writeTcpChecksum(p, 0);
    expect(tcpChecksumOk(p)).toBe(true);
    writeTcpChecksum(p, 0xffff);
    expect(tcpChecksumOk(p)).toBe(true);
  });
});

describe('RFC 1624 incremental update', () => {
  it('matches a full recompute for random edits at odd and even offsets, IPv4 and IPv6', () => {
    fc.assert(
      fc.property(arbFrame, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }), (g, at, edit) => {
        const f = buildFrame(g.v6, g.addrs, g.opts, g.payload);
        const p = decodePacket(LinkType.ETHERNET, f, new DecodedPacket());
        const index = at % p.payloadLength;
        const bytes = edit.subarray(0, Math.min(edit.length, p.payloadLength - index));
        const start = p.payloadOffset + index;
        const old = Uint8Array.from(f.subarray(start, start + bytes.length));
        const odd = ((start - p.l4Offset) & 1) === 1;
        const adjusted = adjustChecksum(p.tcpChecksum, old, bytes, odd);
        f.set(bytes, start);
        expect(adjusted).toBe(computeTcpChecksum(p));
      }),
      { numRuns: 500 },
    );
  });

  it('applyPayloadEdit: incremental keeps a wrong checksum wrong by the same amount; fix repairs; keep keeps', () => {
    fc.assert(
      fc.property(arbFrame, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 0xfffe }), (g, at, edit, error) => {
        const f = buildFrame(g.v6, g.addrs, g.opts, g.payload);
        const p = decodePacket(LinkType.ETHERNET, f, new DecodedPacket());
        const index = at % p.payloadLength;
        const bytes = edit.subarray(0, Math.min(edit.length, p.payloadLength - index));
        // Valid stays valid (and equal to a recompute).
        const valid = Buffer.from(f);
        const pv = decodePacket(LinkType.ETHERNET, valid, new DecodedPacket());
        applyPayloadEdit(pv, index, bytes, 'incremental');
        expect(tcpChecksumOk(pv)).toBe(true);
        expect(pv.tcpChecksum).toBe(computeTcpChecksum(pv));
        expect(valid.readUInt16BE(pv.tcpChecksumOffset)).toBe(pv.tcpChecksum);
        // Wrong (offload-style) stays wrong by the same one's-complement difference.
        const wrong = Buffer.from(f);
        const pw = decodePacket(LinkType.ETHERNET, wrong, new DecodedPacket());
        const badBefore = (pw.tcpChecksum + error) % 0xffff;
        writeTcpChecksum(pw, badBefore);
        const diffBefore = onesComplementSum(Uint8Array.of(badBefore >> 8, badBefore & 0xff, ~computeTcpChecksum(pw) >> 8 & 0xff, ~computeTcpChecksum(pw) & 0xff), 0, 4);
        applyPayloadEdit(pw, index, bytes, 'incremental');
        const now = pw.tcpChecksum;
        const correct = computeTcpChecksum(pw);
        const diffAfter = onesComplementSum(Uint8Array.of(now >> 8, now & 0xff, ~correct >> 8 & 0xff, ~correct & 0xff), 0, 4);
        expect(diffAfter % 0xffff).toBe(diffBefore % 0xffff);
        // fix: correct whatever it was; keep: untouched.
        const pf = decodePacket(LinkType.ETHERNET, Buffer.from(wrong), new DecodedPacket());
        applyPayloadEdit(pf, index, bytes, 'fix');
        expect(tcpChecksumOk(pf)).toBe(true);
        const pk = decodePacket(LinkType.ETHERNET, Buffer.from(wrong), new DecodedPacket());
        applyPayloadEdit(pk, index, bytes, 'keep');
        expect(pk.tcpChecksum).toBe(now === pk.tcpChecksum ? now : pk.data.readUInt16BE(pk.tcpChecksumOffset));
        expect(pk.data.readUInt16BE(pk.tcpChecksumOffset)).toBe(pk.tcpChecksum);
      }),
      { numRuns: 300 },
    );
  });

  it('the 0x0000 / 0xFFFF corner: errata 4782 (no change keeps 0) and a result of negative zero', () => {
    // No change: HC = 0 must stay 0, not become 0xFFFF.
    expect(adjustChecksum(0x0000, Uint8Array.of(1, 2), Uint8Array.of(1, 2), false)).toBe(0x0000);
    // Same sum, different bytes (a swap of words) is also no change.
    expect(adjustChecksum(0x0000, Uint8Array.of(1, 2, 3, 4), Uint8Array.of(3, 4, 1, 2), false)).toBe(0x0000);
    // HC = 0xFFFF (stored negative zero), m = 0xFFFF, m' = 0: eqn 3 gives 0xFFFF; reported as 0x0000,
    // the form a full recompute produces.
    expect(adjustChecksum(0xffff, Uint8Array.of(0xff, 0xff), Uint8Array.of(0, 0), false)).toBe(0x0000);
    // Property: from a segment whose correct checksum is 0x0000 or one stored as 0xFFFF, edits still verify.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 2 }), fc.boolean(), fc.boolean(), (edit, odd, storeFfff) => {
        const f = buildFrame(false, new Uint8Array(32).fill(7), 0, Buffer.from('ABCDxx\r\nEFGH', 'latin1'));
        const p = decodePacket(LinkType.ETHERNET, f, new DecodedPacket());
        f.writeUInt16BE(0, p.payloadOffset + 4);
        writeTcpChecksum(p, 0);
        const s = ~computeTcpChecksum(p) & 0xffff;
        f.writeUInt16BE(0xffff - s, p.payloadOffset + 4);
        expect(computeTcpChecksum(p)).toBe(0);
        writeTcpChecksum(p, storeFfff ? 0xffff : 0);
        applyPayloadEdit(p, odd ? 9 : 8, edit, 'incremental');
        expect(tcpChecksumOk(p)).toBe(true);
        expect(p.tcpChecksum).toBe(computeTcpChecksum(p));
      }),
      { numRuns: 200 },
    );
  });

  it('edits in a real IPv4 and IPv6 segment (EHLO masked to XXXX) match a recompute', () => {
    const p = decodePacket(LinkType.ETHERNET, Buffer.from(EHLO), new DecodedPacket());
    // The loopback frame carries the offload placeholder: fix it first, then edit incrementally.
    writeTcpChecksum(p, computeTcpChecksum(p));
    applyPayloadEdit(p, 5, Buffer.from('XXXXXXX', 'latin1'), 'incremental'); // odd offset from the TCP header
    expect(p.data.subarray(p.payloadOffset, p.payloadOffset + 12).toString('latin1')).toBe('EHLO XXXXXXX');
    expect(tcpChecksumOk(p)).toBe(true);
    for (const frame of [ZEEK_SYNACK, ZEEK_IPV6_SYNACK]) {
      const q = decodePacket(LinkType.ETHERNET, Buffer.from(frame), new DecodedPacket());
      expect(() => applyPayloadEdit(q, 0, Uint8Array.of(1), 'incremental')).toThrow(RangeError); // no payload
    }
  });

  it('a truncated segment: incremental (and fix, which falls back to it) still updates the checksum', () => {
    const f = buildFrame(false, new Uint8Array(32).fill(3), 0, Buffer.alloc(200, 0x41));
    const full = decodePacket(LinkType.ETHERNET, Buffer.from(f), new DecodedPacket());
    applyPayloadEdit(full, 3, Buffer.from('XYZ'), 'fix');
    const cut = decodePacket(LinkType.ETHERNET, Buffer.from(f.subarray(0, 100)), new DecodedPacket());
    expect(cut.truncated).toBe(true);
    expect(tcpChecksumOk(cut)).toBeNull();
    applyPayloadEdit(cut, 3, Buffer.from('XYZ'), 'fix');
    expect(cut.tcpChecksum).toBe(full.tcpChecksum);
  });
});
