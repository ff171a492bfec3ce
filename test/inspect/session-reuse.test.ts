/**
 * Sessions hand their buffers, meters and match marks back to a pool on release() and the next
 * session of the same policy-map reuses them. A reused bundle must behave exactly like a fresh
 * one: every generated capture's streams, run through a session whose bundle was left dirty by a
 * different capture (cut mid-command, mid-header, mid-body, mid-reply), give the same edits and
 * verdicts as a fresh session.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { createEsmtpSession } from '../../src/inspect/esmtp/session.js';
import { EsmtpCounters } from '../../src/inspect/counters.js';
import type { Edit, Verdict } from '../../src/inspect/types.js';
import { CTX, captureSegments, defaultMap, mapFrom, opts, run, type Segment } from './helpers.js';

const ok = haveShared && existsSync(path.join(GENERATED_DIR, 'MANIFEST.tsv'));

/** Feeds `segments` (up to `stop` of them) to a new session and releases it without ending it cleanly. */
function dirty(map: ReturnType<typeof defaultMap>, segments: readonly Segment[], stop: number): void {
  const s = createEsmtpSession(map, CTX, opts(), { edit: () => {}, verdict: () => {} }, new EsmtpCounters());
  const offs = [0, 0];
  for (const seg of segments.slice(0, stop)) {
    if (seg.gap !== undefined) s.gap(seg.dir, offs[seg.dir]!, seg.gap, seg.gapReason);
    else s.data(seg.dir, seg.bytes, offs[seg.dir]!);
    offs[seg.dir]! += seg.gap ?? seg.bytes.length;
  }
  s.release?.();
}

function summary(r: { edits: Edit[]; verdicts: Verdict[] }): unknown {
  return { edits: r.edits.map((e) => [e.dir, e.offset, e.bytes.toString('latin1'), e.rule, e.action]), verdicts: r.verdicts };
}

describe.skipIf(!ok)('session resources reused after release()', () => {
  it('a session on a reused bundle equals a fresh one (every generated capture, dirtied by another)', async () => {
    const files = readdirSync(GENERATED_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
    const streams = await Promise.all(files.map((f) => captureSegments(path.join(GENERATED_DIR, f), f.includes('2525') ? 2525 : 25)));
    const map = defaultMap();
    const fresh = streams.map((segs) => summary(run(map, segs)));
    // Release a session left in another capture's middle state, then run each capture again: the
    // pool hands that bundle to the next session.
    for (let i = 0; i < streams.length; i++) {
      const other = streams[(i + 7) % streams.length]!;
      dirty(map, other, Math.max(1, Math.floor(other.length * ((i % 5) + 1) / 6)));
      const r = run(map, streams[i]!);
      r.session.release?.();
      expect(summary(r), files[i]).toEqual(fresh[i]);
    }
  });
});

describe('session resources: sizes and maps do not mix', () => {
  it('a bundle from a session with other buffer sizes or another map is never reused', () => {
    const map = defaultMap();
    const other = mapFrom('policy-map type inspect esmtp M\n match cmd line length gt 20\n  drop-connection log\n');
    // Dirty bundles of other shapes go back to their own pools.
    const s1 = createEsmtpSession(other, CTX, opts(), { edit: () => {}, verdict: () => {} }, new EsmtpCounters());
    s1.data(0, Buffer.from('EHLO a-very-long-client-name.example\r\n'), 0);
    s1.release?.();
    const s2 = createEsmtpSession(map, CTX, opts({ maxFieldBuffer: 64 }), { edit: () => {}, verdict: () => {} }, new EsmtpCounters());
    s2.data(0, Buffer.from('MAIL FROM:<' + 'a'.repeat(200) + '@example.test>\r\n'), 0);
    s2.release?.();
    const segs = [
      { dir: 1 as const, bytes: Buffer.from('220 mx ESMTP\r\n') },
      { dir: 0 as const, bytes: Buffer.from('EHLO a-very-long-client-name.example\r\n') },
      { dir: 1 as const, bytes: Buffer.from('250-mx\r\n250-STARTTLS\r\n250 CHUNKING\r\n') },
      { dir: 0 as const, bytes: Buffer.from('MAIL FROM:<' + 'b'.repeat(200) + '@example.test>\r\n') },
    ];
    const a = run(map, segs);
    a.session.release?.();
    const b = run(map, segs);
    expect(summary(b)).toEqual(summary(a));
    // The default map does not drop a 38-byte EHLO line; the other map's bundle did not leak in.
    expect(b.verdicts.some((v) => v.action === 'drop-connection')).toBe(false);
    expect(b.out[1].toString('latin1')).toContain('XXXXXXXA');
  });
});
