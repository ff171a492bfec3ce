/**
 * Zero-window probes on real bytes (fixtures/make-zero-window.py): a real Linux session whose
 * server stops reading after its 354 (the window closes at client offset 6223, Linux probes with
 * seq-1 and no data), and the same session with BSD/Windows-style probes that carry the next byte
 * — the second one arriving after the receiver's window reopened, so the receiver takes the byte
 * (acknowledged in one fixture, the ACK not captured in the other) and the sender never sends it
 * again. A 1200-byte header line follows at offset 9101: the ASA default policy drops the
 * connection for it (`match header line length gt 998`).
 *
 * Regression: the flow table delivered nothing for a zero-window probe, so an accepted probe's
 * byte became a 1-byte gap; after a client gap in DATA the rest of the message is not measured,
 * and the 1200-byte header line passed.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEngineOptions } from '../../src/inspect/options.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { MemoryWriter, captureRecordOf, identityOrder, loadPackets, runFlowOrder } from '../helpers/capture-packets.js';
import { haveTool } from '../helpers/shared.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const LINUX = path.join(FIXTURES, 'zero-window-linux.pcap');
const PROBES = ['zero-window-probe-acked.pcap', 'zero-window-probe-ack-lost.pcap'].map((f) => path.join(FIXTURES, f));

function replay(file: string): { verdicts: VerdictRecord[]; inPackets: number; accounted: number } {
  const recs = loadPackets(file);
  const verdicts: VerdictRecord[] = [];
  const p = new InspectionPipeline({ policy: defaultPolicy(), profile: 'asa', engineOptions: parseEngineOptions([]), outputs: { packets: new MemoryWriter(), annotate: null, verdicts: (v) => verdicts.push(v), syslog: () => {} } });
  recs.forEach((x, i) => p.process(captureRecordOf(x, i + 1, x.tsSec, x.tsNsec)));
  const s = p.finish();
  return { verdicts, inPackets: recs.length, accounted: s.packets.forwarded + s.packets.dropped };
}

const decisions = (v: VerdictRecord[]): string[] => v.filter((x) => x.action !== 'note' && x.action !== 'drop').map((x) => `${x.direction ?? '-'} ${x.rule} ${x.action}`);

describe('zero-window probes', () => {
  const linux = runFlowOrder(loadPackets(LINUX), identityOrder(loadPackets(LINUX).length), {});

  it('Linux probes (seq-1, no data): the whole message, no gap', () => {
    expect(linux.gaps).toEqual([]);
    expect(linux.c2s.length).toBe(10328);
    expect(linux.c2s).toContain(`X-Long: ${'a'.repeat(1200)}\r\n`);
  });

  for (const file of PROBES) {
    const name = path.basename(file, '.pcap');
    it(`${name}: the probe's byte the receiver took is stream data (same bytes as the Linux session, no gap)`, () => {
      const recs = loadPackets(file);
      // The fixture is what it says: two 1-byte probes at the offset the sender then skips.
      const probes = recs.filter((x) => x.toServer && x.len === 1);
      expect(probes.length).toBe(2);
      const run = runFlowOrder(recs, identityOrder(recs.length), {});
      expect(run.gaps).toEqual([]);
      expect(run.c2s).toBe(linux.c2s);
      expect(run.s2c).toBe(linux.s2c);
    });

    it(`${name}: the 1200-byte header line after the probe drops the connection, as in the Linux session`, () => {
      const plain = replay(LINUX);
      const probed = replay(file);
      expect(decisions(plain.verdicts)).toContain('c2s match header line length gt 998 drop-connection');
      expect(decisions(probed.verdicts)).toEqual(decisions(plain.verdicts));
      expect(probed.verdicts.filter((v) => v.rule === 'tcp-gap')).toEqual([]);
      expect(probed.accounted).toBe(probed.inPackets);
    });
  }

  it.skipIf(!haveTool('tshark'))('tshark follow of the probed captures gives the bytes we reassemble', () => {
    for (const file of PROBES) {
      const out = execFileSync('tshark', ['-r', file, '-qz', 'follow,tcp,raw,0'], { encoding: 'latin1' });
      const c2s = out
        .split('\n')
        .filter((l) => /^[0-9a-f]+$/.test(l))
        .map((l) => Buffer.from(l, 'hex').toString('latin1'))
        .join('');
      expect(c2s).toBe(linux.c2s);
    }
  });
});
