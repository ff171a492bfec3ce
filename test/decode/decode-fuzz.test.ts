/**
 * Random and mutated bytes through every link type: decodePacket never throws, never reads outside
 * the buffer (a Proxy traps every indexed read), and every offset it reports lies inside the data.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { tcpChecksumOk, ipv4HeaderChecksumOk } from '../../src/decode/checksum.js';
import { SV_QUIT_QUIT, ZEEK_IPV6_SYNACK, SLL2_SYN, SLL_SYN, NULL_ACK, EHLO } from './vectors.js';

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

/** A Buffer whose indexed reads outside [0, length) throw, so a silent `undefined` read is caught. */
function guarded(buf: Buffer): Buffer {
  return new Proxy(buf, {
    get(target, prop) {
      if (typeof prop === 'string' && /^\d+$/.test(prop) && Number(prop) >= target.length) {
        throw new Error(`read at ${prop} beyond length ${target.length}`);
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function checkInvariants(p: DecodedPacket, len: number): void {
  const offsets = [p.l3Offset, p.ipEnd, p.l4Offset, p.payloadOffset, p.payloadOffset + p.payloadLength];
  for (const o of offsets) {
    expect(Number.isInteger(o)).toBe(true);
    expect(o).toBeGreaterThanOrEqual(0);
    expect(o).toBeLessThanOrEqual(len);
  }
  expect(p.payloadMissing).toBeGreaterThanOrEqual(0);
  if (p.kind === PacketKind.TCP) {
    expect(p.l4Offset + 20).toBeLessThanOrEqual(len);
    expect(p.payloadOffset).toBeGreaterThanOrEqual(p.l4Offset + 20);
    expect(p.payloadOffset + p.payloadLength).toBeLessThanOrEqual(p.ipEnd);
    expect(p.tcpChecksumOffset + 2).toBeLessThanOrEqual(len);
    expect(p.srcAddrOffset + p.addrLength).toBeLessThanOrEqual(len);
    expect(p.dstAddrOffset + p.addrLength).toBeLessThanOrEqual(len);
  }
}

const seeds = [SV_QUIT_QUIT, ZEEK_IPV6_SYNACK, SLL2_SYN, SLL_SYN, NULL_ACK, EHLO];

describe('decode fuzz', () => {
  it('random bytes under every link type', () => {
    const pkt = new DecodedPacket();
    fc.assert(
      fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 200 }), (lt, bytes) => {
        const data = Buffer.from(bytes);
        decodePacket(lt, guarded(data), pkt);
        checkInvariants(pkt, data.length);
        pkt.data = data; // checksum helpers read through the real buffer
        tcpChecksumOk(pkt);
        ipv4HeaderChecksumOk(pkt);
      }),
      { numRuns: 3000 },
    );
  });

  it('real frames with random byte overwrites and cuts', () => {
    const pkt = new DecodedPacket();
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds.keys()),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (seedIndex, edits, cut) => {
          const seed = seeds[seedIndex]!;
          const lt = seed === SLL2_SYN ? 276 : seed === SLL_SYN ? 113 : seed === NULL_ACK ? 0 : 1;
          const data = Buffer.from(seed);
          for (const [at, v] of edits) data[at % data.length] = v;
          const cutData = data.subarray(0, cut % (data.length + 1));
          decodePacket(lt, guarded(cutData), pkt);
          checkInvariants(pkt, cutData.length);
          pkt.data = cutData;
          tcpChecksumOk(pkt);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
