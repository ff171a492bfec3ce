/**
 * regress's verdict diff on a large case whose every verdict moved: work grows with the records,
 * not with their square.
 *
 * Regression: each removed record was paired by scanning every added record, so a difference over
 * the whole list (a packet inserted at the start of a capture moves every packet number by one)
 * cost removed x added. A generated case of 80,000 verdicts (16,000 sessions) shifted by one packet:
 * `regress` 27.9 s; after indexing the added records by packet, 1.9 s, the report the same.
 * Counted here, not timed: reads of the records' `packet` field.
 * Input: the real verdicts of captures/16c-large-8mib-snaplen96 (a Postfix session with its
 * 8 MiB message), repeated as consecutive sessions beyond the LCS table's size.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diffVerdicts } from '../../src/regress/diff.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';

const CASE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'captures', '16c-large-8mib-snaplen96', 'expected.verdicts.jsonl');

/** The records with `packet` read through a counting getter. */
function counted(records: VerdictRecord[], reads: { n: number }): VerdictRecord[] {
  return records.map((r) => {
    const { packet, ...rest } = r;
    return Object.defineProperty({ ...rest }, 'packet', { get: () => (reads.n++, packet), enumerable: true }) as VerdictRecord;
  });
}

describe('regress verdict diff scales with the records', () => {
  const one = readFileSync(CASE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as VerdictRecord);
  const span = Math.max(...one.map((r) => r.packet));
  const copies = Math.ceil(6000 / one.length);
  const got = Array.from({ length: copies }, (_, k) => one.map((r) => ({ ...r, packet: r.packet + k * span }))).flat();
  const shifted = got.map((r) => ({ ...r, packet: r.packet + 1 }));

  it(`${got.length} verdicts, every packet number moved by one: packet read O(n) times`, () => {
    expect(got.length * got.length).toBeGreaterThan(16_000_000); // beyond the LCS table: the fallback path
    const reads = { n: 0 };
    const diffs = diffVerdicts(counted(shifted, reads), counted(got, reads));
    expect(diffs.length).toBeGreaterThanOrEqual(got.length);
    // Before: about removed x added reads (36 M for 6,000 records).
    expect(reads.n).toBeLessThan(20 * got.length);
  });

  it('a changed detail on every record still pairs each with its counterpart', () => {
    const edited = got.map((r) => ({ ...r, detail: `old ${r.detail}` }));
    const diffs = diffVerdicts(edited, got);
    expect(diffs.length).toBe(got.length);
    expect(diffs.every((d) => d.expected !== null && d.got !== null && d.expected.packet === d.got.packet && d.expected.rule === d.got.rule)).toBe(true);
  });
});
