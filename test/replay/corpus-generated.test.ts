/**
 * Every capture of the shared corpus through replay with the default policy: the invariant
 * (in = out + dropped from the verdicts, OUT read back by our reader and by tshark, no valid TCP
 * checksum made invalid, paired packet by packet) and the annotated capture holding every packet.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { openCapture } from '../../src/capture/open.js';
import { checkReplayInvariant } from '../../src/pipeline/invariant.js';
import { GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from './helpers.js';

const useTshark = haveShared && haveTool('tshark');

function captures(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

async function countPackets(file: string): Promise<number> {
  const src = await openCapture(file);
  const st = await src.run(() => {});
  return st.packets;
}

describe.skipIf(!haveShared)('replay over the generated captures (default policy)', { concurrent: true }, () => {
  const files = haveShared ? captures(GENERATED_DIR) : [];
  it.each(files.map((f) => [path.basename(f), f]))('%s: every packet accounted for, OUT sound', async (_name, file) => {
    const r = await replayToTemp(file);
    expect(r.inputError).toBeNull();
    const s = r.summary.packets;
    const verdicts = readVerdicts(r.verdicts);
    const drops = verdicts.filter((v) => v.action === 'drop');
    expect(s.in).toBe(s.forwarded + drops.length);
    expect(s.out).toBe(s.forwarded + s.synthesized);
    expect(new Set(drops.map((d) => d.packet)).size).toBe(drops.length);
    // Fixed key order in every record.
    for (const v of verdicts.slice(0, 50)) expect(Object.keys(v)).toEqual(['time', 'packet', 'client', 'server', 'direction', 'rule', 'action', 'syslog', 'detail']);
    const report = await checkReplayInvariant({ input: file, summary: r.summary, out: r.out, verdicts: r.verdicts, useTshark });
    expect(report.problems).toEqual([]);
    // The annotated capture holds every input packet plus the synthesised ones.
    expect(await countPackets(r.annotate)).toBe(s.in + s.synthesized);
  });
});
