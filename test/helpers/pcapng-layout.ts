/** The block layout of a little-endian pcapng file, for tests that check where blocks land. */
import { readFileSync } from 'node:fs';

const EPB = 6;

/** Block types of a pcapng file in order: EPBs as 'p', custom blocks (0xBAD, 0x40000BAD) by their text; others left out. */
export function pcapngLayout(file: string): string[] {
  const b = readFileSync(file);
  const out: string[] = [];
  for (let p = 0; p + 12 <= b.length; p += b.readUInt32LE(p + 4)) {
    const t = b.readUInt32LE(p);
    if (t === EPB) out.push('p');
    else if (t === 0xbad || t === 0x40000bad) out.push(b.subarray(p + 12, p + b.readUInt32LE(p + 4) - 4).toString('latin1').replace(/\0+$/, ''));
  }
  return out;
}
