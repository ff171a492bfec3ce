import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { formatIp, formatEndpoint } from '../../src/decode/address.js';
import { linkTypeName, isDecodedLinkType } from '../../src/decode/link-types.js';

const v6 = (s: string): Uint8Array => {
  // Expand a full 8-group literal (test input only).
  const words = s.split(':').map((w) => parseInt(w, 16));
  const b = new Uint8Array(16);
  words.forEach((w, i) => { b[2 * i] = w >> 8; b[2 * i + 1] = w & 0xff; });
  return b;
};

describe('formatIp', () => {
  it('IPv4 dotted quad at an offset', () => {
    expect(formatIp(Uint8Array.of(9, 10, 127, 0, 0, 1), 2, 4)).toBe('127.0.0.1');
  });

  it.each([
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (RFC 5952 4.2.2)
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins (4.2.3)
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // on a tie, the first (4.2.3)
    ['2607:f8b0:400c:c03:0:0:0:1a', '2607:f8b0:400c:c03::1a'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['0:0:0:0:0:ffff:c000:280', '::ffff:192.0.2.128'], // IPv4-mapped keeps the dotted quad (5)
    ['ABCD:EF01:0:0:0:0:0:0', 'abcd:ef01::'],
  ])('%s -> %s', (full, text) => {
    expect(formatIp(v6(full), 0, 16)).toBe(text);
  });

  it('agrees with the WHATWG URL serializer (RFC 5952 compression) on random addresses', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0x2001, 0xdb8, 0xabc), { minLength: 8, maxLength: 8 }), (words) => {
        const b = new Uint8Array(16);
        words.forEach((w, i) => { b[2 * i] = w >> 8; b[2 * i + 1] = w & 0xff; });
        const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
        fc.pre(!mapped);
        const host = new URL(`http://[${words.map((w) => w.toString(16)).join(':')}]/`).hostname;
        expect(`[${formatIp(b, 0, 16)}]`).toBe(host);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an address outside the buffer', () => {
    expect(() => formatIp(new Uint8Array(10), 0, 16)).toThrow(RangeError);
  });
});

describe('formatEndpoint and link-type names', () => {
  it('brackets IPv6', () => {
    expect(formatEndpoint('1.2.3.4', 25, 4)).toBe('1.2.3.4:25');
    expect(formatEndpoint('::1', 25, 6)).toBe('[::1]:25');
  });
  it('names link types and knows which are decoded', () => {
    expect(linkTypeName(1)).toBe('ETHERNET');
    expect(linkTypeName(276)).toBe('LINUX_SLL2');
    expect(linkTypeName(9999)).toBe('LINKTYPE_9999');
    expect([0, 1, 12, 14, 101, 108, 113, 228, 229, 276].every(isDecodedLinkType)).toBe(true);
    expect(isDecodedLinkType(105)).toBe(false);
  });
});
