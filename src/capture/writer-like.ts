/** A writer in the input's own format: pcap keeps the input's header, pcapng its interfaces. */
import { createPcapWriter, type PcapWriterOptions } from './pcap-writer.js';
import { createPcapngWriter } from './pcapng-writer.js';
import type { CaptureSource, PacketWriter, WritablePacket } from './types.js';

/** `options.holdInputRuns`: see PcapWriterOptions (pcap only; pcapng writers copy every record). */
export function createWriterLike(source: CaptureSource, dest: string, options: PcapWriterOptions = {}): PacketWriter {
  if (source.format === 'pcap' && source.pcapHeader) return createPcapWriter(dest, source.pcapHeader, options);
  const w = createPcapngWriter(dest, { interfaces: source.interfaces, userAppl: 'smtp-inspect' });
  // pcapng interfaces appear while the input is read: add each before the first packet that needs it.
  let known = source.interfaces.length;
  return {
    write(pkt: WritablePacket, comments?: readonly string[] | null): void {
      const all = source.interfaces;
      while (known < all.length) w.addInterface(all[known++]!);
      w.write(pkt, comments);
    },
    close: () => w.close(),
    get count() {
      return w.count;
    },
  };
}
