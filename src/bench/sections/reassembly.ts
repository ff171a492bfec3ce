/**
 * Section "reassembly": read + decode + FlowTable (every TCP connection reassembled, bytes handed
 * to a listener that only counts them) over the bench capture, next to read+decode alone (so the
 * reassembly's own cost shows) and tshark's TCP reassembly pass (`-z follow,tcp,raw,0` dissects and
 * reassembles every packet). Then a synthetic flood of one million half-open connections: the
 * issue 3 bar is that one million concurrent connections fit in 1.5 GB.
 */
import fs from 'node:fs';
import { openCapture } from '../../capture/open.js';
import { decodePacket } from '../../decode/decode.js';
import { DecodedPacket } from '../../decode/packet.js';
import type { Connection } from '../../flow/connection.js';
import { FlowTable, PacketFlowResult } from '../../flow/flow-table.js';
import { halfOpenFlood } from '../../flow/flood.js';
import type { StreamListener } from '../../flow/types.js';
import { registerBenchSection, type WorkResult } from '../registry.js';

const FLOOD_CONNECTIONS = 1_000_000;
const FLOOD_BAR_BYTES = 1.5 * 1024 ** 3;

registerBenchSection({
  name: 'reassembly',
  description: 'read + decode + TCP reassembly of every connection; half-open flood of 1M connections',

  async work(file, args): Promise<WorkResult> {
    if (args[0] === 'flood') {
      const n = Number(args[1] ?? FLOOD_CONNECTIONS);
      const r = halfOpenFlood(n);
      return {
        bytes: 0,
        packets: n,
        extra: { connections: r.connections, embryonic: r.embryonic, 'heap B/conn': r.heapBytesPerConnection, 'heap MB': (r.heapUsedBytes / 1e6).toFixed(0) },
      };
    }
    let delivered = 0;
    let gaps = 0;
    const listener: StreamListener<Connection> = {
      onOpen() {},
      onData(_c, _d, data) {
        delivered += data.length;
      },
      onGap() {
        gaps++;
      },
      onClose() {},
    };
    const table = new FlowTable(listener, { serverPorts: null });
    const source = await openCapture(file);
    const pkt = new DecodedPacket();
    const res = new PacketFlowResult();
    let lastSec = 0;
    let lastNsec = 0;
    const stats = await source.run((rec) => {
      decodePacket(rec.linkType, rec.data, pkt);
      table.process(pkt, rec.packetNumber, rec.tsSec, rec.tsNsec, res);
      lastSec = rec.tsSec;
      lastNsec = rec.tsNsec;
    });
    table.finish(lastSec, lastNsec);
    return {
      bytes: fs.statSync(file).size,
      packets: stats.packets,
      extra: { connections: table.stats.opened, 'delivered MB': (delivered / 1e6).toFixed(1), gaps, 'peak buffered KB': (table.stats.peakMemoryInUse / 1024).toFixed(0) },
    };
  },

  async run(ctx) {
    const ours = await ctx.measureOurs('read+decode+reassembly (ours)', 'reassembly');
    const base = await ctx.measureOurs('read+decode only (ours)', 'read+decode');
    const tshark = await ctx.measurePeer({
      label: 'tshark TCP reassembly pass (follow)',
      command: 'tshark',
      args: ['-n', '-r', ctx.file, '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tcp.reassemble_out_of_order:TRUE', '-q', '-z', 'follow,tcp,raw,0'],
    });
    ctx.table([ours, base, tshark]);
    const perPacketUs = ((ours.seconds - base.seconds) / Math.max(1, ours.packets)) * 1e6;
    ctx.log(`  reassembly's own cost: ${perPacketUs.toFixed(2)} us/packet over read+decode`);
    if (ours.peakRssBytes !== null) {
      ctx.bar('reassembly peak RSS < 150 MB on the bench capture', ours.peakRssBytes < 150 * 1024 * 1024, `${(ours.peakRssBytes / 1024 / 1024).toFixed(1)} MB`);
    }

    const flood = await ctx.measureOurs(`half-open flood, ${FLOOD_CONNECTIONS.toLocaleString('en-US')} SYNs (ours)`, 'reassembly', ['flood', String(FLOOD_CONNECTIONS)]);
    ctx.table([flood]);
    if (flood.peakRssBytes !== null) {
      ctx.bar('1M concurrent connections fit in 1.5 GB', flood.peakRssBytes < FLOOD_BAR_BYTES, `peak RSS ${(flood.peakRssBytes / 1024 ** 3).toFixed(2)} GiB`);
    }
  },
});
