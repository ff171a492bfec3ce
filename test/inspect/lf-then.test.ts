/** The body fast path's search for a line starting with '.' or '-' equals the plain two-byte search. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lfThen } from '../../src/inspect/esmtp/session.js';

const LF_DOT = Buffer.from('\n.', 'latin1');
const LF_DASH = Buffer.from('\n-', 'latin1');

describe('lfThen', () => {
  it('equals data.indexOf(LF + ch, lo) on random bytes (many full stops, few line starts)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0x0a, 0x2e, 0x2e, 0x2e, 0x2d, 0x2d, 0x61, 0x0d), { maxLength: 120 }),
        fc.nat(130),
        (bytes, lo) => {
          const data = Buffer.from(bytes);
          expect(lfThen(data, lo, 0x2e, LF_DOT)).toBe(data.indexOf(LF_DOT, lo));
          expect(lfThen(data, lo, 0x2d, LF_DASH)).toBe(data.indexOf(LF_DASH, lo));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
