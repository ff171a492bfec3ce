/**
 * Runs of unmodified input records are written straight from the reader's buffers
 * (PcapWriter holdInputRuns + CaptureSource.run's onRelease). OUT must be byte-identical to the
 * record-by-record writer's on every pcap of the corpus, with the reader's chunk boundaries put
 * everywhere (tiny chunks, so runs are cut and buffers refilled constantly) and with the defaults.
 * A writer that held a run past the buffer's refill would write the next chunk's bytes instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture, type ReadTuning } from '../../src/capture/open.js';
import { createWriterLike } from '../../src/capture/writer-like.js';
import { loadPolicy } from '../../src/policy/load.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, PROJECT_CAPTURES, haveShared } from '../helpers/shared.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zero-copy-runs-'));

function pcapsIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...pcapsIn(p));
    else if (e.name.endsWith('.pcap')) out.push(p);
  }
  return out.sort();
}

async function replayTo(file: string, out: string, holdInputRuns: boolean, tuning: ReadTuning): Promise<void> {
  const policy = await loadPolicy(null);
  const source = await openCapture(file, tuning);
  const writer = createWriterLike(source, out, { holdInputRuns });
  const pipeline = new InspectionPipeline({ policy, format: source.format, outputs: { packets: writer, annotate: null, verdicts: null, syslog: null } });
  for (const i of source.interfaces) pipeline.addInterface(i);
  try {
    await source.run(
      (rec) => pipeline.process(rec),
      (iface) => pipeline.addInterface(iface),
      holdInputRuns ? () => writer.releaseInput?.() : undefined,
    );
  } catch {
    // a damaged capture: both writers stop at the same record
  }
  pipeline.finish();
  await writer.close();
}

const files = [...pcapsIn(PROJECT_CAPTURES), ...(haveShared ? [...pcapsIn(GENERATED_DIR), ...pcapsIn(EXTERNAL_PCAPS)] : [])];

describe('zero-copy runs of unmodified records', () => {
  if (!haveShared) console.log('skipping the shared corpus: ../shared/captures not present (project captures only)');

  it('cover at least the project captures', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  for (const [name, tuning] of [
    ['tiny chunks', { chunkBytes: 1500, reserveBytes: 70_000, readDepth: 1 }],
    ['default chunks', {}],
  ] as const) {
    it(`OUT is byte-identical to the record-by-record writer's on every pcap (${name})`, async () => {
      let modifiedSomewhere = 0;
      for (const f of files) {
        const a = path.join(tmp, 'runs.pcap');
        const b = path.join(tmp, 'records.pcap');
        await replayTo(f, a, true, tuning);
        await replayTo(f, b, false, tuning);
        const A = fs.readFileSync(a);
        const B = fs.readFileSync(b);
        expect(A.equals(B), f).toBe(true);
        if (!B.equals(fs.readFileSync(f))) modifiedSomewhere++;
      }
      // The corpus has masking, X'd verbs and drops: runs are cut by modified and dropped packets.
      expect(modifiedSomewhere).toBeGreaterThan(10);
    });
  }
});
