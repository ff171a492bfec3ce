/**
 * Section "read+decode": openCapture + decodePacketAt over every packet (straight on the reader's
 * window through rec.buffer/rec.offset: no per-packet Buffer view), against
 * `tcpdump -r FILE -w /dev/null` (read and copy every record) and `capinfos FILE` (read and
 * summarise). Issue 2 bars: at least 2x tcpdump's throughput; peak RSS under 100 MB.
 */
import fs from 'node:fs';
import { openCapture } from '../../capture/open.js';
import { decodePacketAt } from '../../decode/decode.js';
import { DecodedPacket, PacketKind } from '../../decode/packet.js';
import { registerBenchSection } from '../registry.js';

const MB = 1e6;

registerBenchSection({
  name: 'read+decode',
  description: 'openCapture + decodePacketAt over every packet vs tcpdump -w /dev/null and capinfos',

  async work(file) {
    const source = await openCapture(file);
    const pkt = new DecodedPacket();
    let tcp = 0;
    let payloadBytes = 0;
    const stats = await source.run((rec) => {
      decodePacketAt(rec.linkType, rec.buffer, rec.offset, rec.offset + rec.captureLength, pkt);
      if (pkt.kind === PacketKind.TCP) {
        tcp++;
        payloadBytes += pkt.payloadLength;
      }
    });
    return { bytes: fs.statSync(file).size, packets: stats.packets, extra: { tcp, 'payload MB': (payloadBytes / MB).toFixed(1) } };
  },

  async run(ctx) {
    const ours = await ctx.measureOurs('read+decode (ours)', 'read+decode');
    const tcpdump = await ctx.measurePeer({ label: 'tcpdump -r FILE -w /dev/null', command: 'tcpdump', args: ['-r', ctx.file, '-w', '/dev/null'] });
    const capinfos = await ctx.measurePeer({ label: 'capinfos FILE', command: 'capinfos', args: [ctx.file] });
    ctx.table([ours, tcpdump, capinfos]);
    if (tcpdump) {
      const ratio = tcpdump.seconds / ours.seconds;
      ctx.bar('read+decode throughput >= 2x tcpdump (process wall clock, Node start-up included)', ratio >= 2, `${ratio.toFixed(2)}x`);
      const work = Number(ours.extra?.['work s']);
      if (work > 0) ctx.log(`  info: in-process read+decode time ${work.toFixed(3)} s = ${(tcpdump.seconds / work).toFixed(2)}x tcpdump's wall clock`);
    } else {
      ctx.log('  SKIP bar "read+decode >= 2x tcpdump": tcpdump not installed');
    }
    if (ours.peakRssBytes !== null) {
      ctx.bar('read+decode peak RSS < 100 MB', ours.peakRssBytes < 100 * 1024 * 1024, `${(ours.peakRssBytes / 1024 / 1024).toFixed(1)} MB`);
    }
  },
});
