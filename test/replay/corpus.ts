/**
 * Replay of a whole corpus folder with the default policy, checked capture by capture: the
 * invariant (in = forwarded + drop records, OUT read back by our reader, no valid TCP checksum made
 * invalid, input and OUT paired packet by packet), fixed verdict key order, and the annotated
 * capture holding every packet. tshark's read-back of every OUT is batched: the OUTs are
 * concatenated with `mergecap -a` (which reads each with the same library as tshark, so a damaged
 * file fails it) and tshark reads the result once; its frame count must be the sum of the OUT
 * counts. When the batch disagrees, each OUT is read on its own to name the culprit.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { checkReplayInvariant, type InvariantReport } from '../../src/pipeline/invariant.js';
import { haveShared, haveTool } from '../helpers/shared.js';
import { readVerdicts, replayToTemp, type ReplayRun } from './helpers.js';

const run = promisify(execFile);
const TSHARK_ENV = { ...process.env, LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' };

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

async function tsharkFrames(file: string): Promise<{ frames: number; stderr: string }> {
  const r = await run('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { env: TSHARK_ENV, maxBuffer: 1 << 30 });
  return { frames: r.stdout.split('\n').filter((l) => l !== '').length, stderr: r.stderr };
}

interface Result {
  run: ReplayRun;
  report: InvariantReport;
  outCount: number;
  annotateCount: number;
}

export function corpusSuite(title: string, dir: string): void {
  describe.skipIf(!haveShared)(title, () => {
    const files = haveShared ? captures(dir) : [];
    const results = new Map<string, Result>();

    beforeAll(async () => {
      for (const file of files) {
        const r = await replayToTemp(file);
        // tshark is run once for all OUTs below.
        const report = await checkReplayInvariant({ input: file, summary: r.summary, out: r.out, verdicts: r.verdicts, useTshark: false });
        results.set(file, { run: r, report, outCount: await countPackets(r.out), annotateCount: await countPackets(r.annotate) });
      }
    }, 120_000);

    it.each(files.map((f) => [path.basename(f), f]))('%s: every packet accounted for, OUT sound', (_name, file) => {
      const res = results.get(file);
      expect(res).toBeDefined();
      const { run: r, report } = res!;
      expect(r.inputError).toBeNull();
      const s = r.summary.packets;
      const verdicts = readVerdicts(r.verdicts);
      const drops = verdicts.filter((v) => v.action === 'drop');
      expect(s.in).toBe(s.forwarded + drops.length);
      expect(s.out).toBe(s.forwarded + s.synthesized);
      expect(new Set(drops.map((d) => d.packet)).size).toBe(drops.length);
      // Fixed key order in every record.
      for (const v of verdicts.slice(0, 50)) expect(Object.keys(v)).toEqual(['time', 'packet', 'client', 'server', 'direction', 'rule', 'action', 'syslog', 'detail']);
      expect(report.problems).toEqual([]);
      expect(res!.outCount).toBe(s.out);
      // The annotated capture holds exactly the input packets (frame N = verdict packet N).
      expect(res!.annotateCount).toBe(s.in);
    });

    it.skipIf(!haveTool('tshark') || !haveTool('mergecap'))('tshark reads every OUT (one mergecap -a + tshark run for the folder)', async () => {
      const outs = files.map((f) => results.get(f)!.run.out);
      const expected = files.reduce((n, f) => n + results.get(f)!.outCount, 0);
      const merged = path.join(results.get(files[0]!)!.run.dir, 'all-outs.pcapng');
      await run('mergecap', ['-a', '-F', 'pcapng', '-w', merged, ...outs], { env: TSHARK_ENV });
      const t = await tsharkFrames(merged);
      if (t.frames !== expected || /cut short|appears to be damaged|isn't a capture file/i.test(t.stderr)) {
        // Name the OUT tshark disagrees with.
        for (const f of files) {
          const one = await tsharkFrames(results.get(f)!.run.out);
          expect({ file: path.basename(f), frames: one.frames, stderr: one.stderr }).toEqual({ file: path.basename(f), frames: results.get(f)!.outCount, stderr: '' });
        }
      }
      expect(t.stderr).not.toMatch(/cut short|appears to be damaged|isn't a capture file/i);
      expect(t.frames).toBe(expected);
    }, 60_000);
  });
}
