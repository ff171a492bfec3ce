/**
 * Section "replay": the whole pipeline (read, decode, reassemble, inspect with the default policy,
 * rewrite, write OUT) against `tcprewrite --fixcsum` (rewrites every checksum, no inspection) and
 * tshark's SMTP dissection of the same file. Issue 5 bars: at least 2x tcprewrite's throughput, at
 * least 20x tshark's, peak RSS under 150 MB.
 */
import fs from 'node:fs';
import { openCapture } from '../../capture/open.js';
import { createWriterLike } from '../../capture/writer-like.js';
import { loadPolicy } from '../../policy/load.js';
import { InspectionPipeline } from '../../pipeline/inspection-pipeline.js';
import { tuneHeapForReplay } from '../../pipeline/heap-tuning.js';
import { registerBenchSection } from '../registry.js';

registerBenchSection({
  name: 'replay',
  description: 'smtp-inspect replay (default policy, OUT to /dev/null) vs tcprewrite --fixcsum and tshark -Y smtp.req',

  async work(file) {
    // What the CLI does at start-up (src/cli/main.ts): the measured process is the replay's own.
    tuneHeapForReplay();
    const policy = await loadPolicy(null);
    const source = await openCapture(file);
    const out = createWriterLike(source, '/dev/null', { holdInputRuns: true });
    let verdicts = 0;
    const pipeline = new InspectionPipeline({
      policy,
      format: source.format,
      outputs: { packets: out, annotate: null, verdicts: () => verdicts++, syslog: null },
    });
    for (const i of source.interfaces) pipeline.addInterface(i);
    const stats = await source.run(
      (rec) => pipeline.process(rec),
      (iface) => pipeline.addInterface(iface),
      () => out.releaseInput?.(),
    );
    const s = pipeline.finish();
    await out.close();
    return {
      bytes: fs.statSync(file).size,
      packets: stats.packets,
      extra: {
        inspected: s.connections.inspected,
        modified: s.packets.modified,
        dropped: s.packets.dropped,
        'max held': s.packets.maxHeld,
        verdicts,
      },
    };
  },

  async run(ctx) {
    const ours = await ctx.measureOurs('replay (ours, default policy)', 'replay');
    const tcprewrite = await ctx.measurePeer({ label: 'tcprewrite --fixcsum', command: 'tcprewrite', args: ['--fixcsum', '-i', ctx.file, '-o', '/dev/null'] });
    const tshark = await ctx.measurePeer({
      label: 'tshark -Y smtp.req -e smtp.req.command',
      command: 'tshark',
      args: ['-r', ctx.file, '-Y', 'smtp.req', '-T', 'fields', '-e', 'smtp.req.command'],
    });
    ctx.table([ours, tcprewrite, tshark]);
    if (tcprewrite) {
      const r = tcprewrite.seconds / ours.seconds;
      ctx.bar('replay throughput >= 2x tcprewrite --fixcsum', r >= 2, `${r.toFixed(2)}x`);
    } else ctx.log('  SKIP bar "replay >= 2x tcprewrite": tcprewrite not installed');
    if (tshark) {
      const r = tshark.seconds / ours.seconds;
      ctx.bar('replay throughput >= 20x tshark SMTP dissection', r >= 20, `${r.toFixed(2)}x`);
    } else ctx.log('  SKIP bar "replay >= 20x tshark": tshark not installed');
    if (ours.peakRssBytes !== null) {
      ctx.bar('replay peak RSS < 150 MB', ours.peakRssBytes < 150 * 1024 * 1024, `${(ours.peakRssBytes / 1024 / 1024).toFixed(1)} MB`);
    }
  },
});
