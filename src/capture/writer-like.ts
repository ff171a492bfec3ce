/**
 * Writers in the input's own format: pcap keeps the input's file header; pcapng keeps the input's
 * structure (sections in their byte order, IDBs and every other block as read, unmodified packet
 * blocks byte for byte: see pcapng-writer.ts), given the input's blocks through writeInputBlock
 * (CaptureSource.run's onBlock).
 */
import { createPcapWriter, type PcapWriterOptions } from './pcap-writer.js';
import { createPcapngWriter, type PcapngWriter } from './pcapng-writer.js';
import type { CaptureBlock, CaptureInterface, CaptureSource, PacketWriter, WritablePacket } from './types.js';

/** A writer that may also take the input's pcapng blocks (a no-op for pcap). */
export type WriterLike = PacketWriter & {
  addInterface?(iface: CaptureInterface): void;
  writeInputBlock?(block: CaptureBlock): void;
};

/**
 * `options.holdInputRuns`: see PcapWriterOptions; the caller then calls releaseInput() from
 * CaptureSource.run's onRelease. For a pcapng input, pass the input's blocks to writeInputBlock()
 * (onBlock); interfaces the writer was never shown as blocks are described by it before their
 * first packet (in a section of its own if no section was given).
 */
export function createWriterLike(source: CaptureSource, dest: string, options: PcapWriterOptions = {}): WriterLike {
  if (source.format === 'pcap' && source.pcapHeader) return createPcapWriter(dest, source.pcapHeader, options);
  return followingPcapng(source, createPcapngWriter(dest, { interfaces: [], followInput: true, holdInputRuns: options.holdInputRuns === true, leaveOutNoCopyBlocks: true }));
}

/**
 * The annotated capture: always pcapng. For a pcapng input it keeps the input's structure like
 * OUT (blocks through writeInputBlock); for pcap, one little-endian section of our own.
 */
export function createAnnotateWriter(source: CaptureSource, dest: string, userAppl: string): WriterLike {
  if (source.format === 'pcapng') return followingPcapng(source, createPcapngWriter(dest, { interfaces: [], followInput: true }));
  return createPcapngWriter(dest, { interfaces: source.interfaces, userAppl });
}

function followingPcapng(source: CaptureSource, w: PcapngWriter): WriterLike {
  // Interfaces appear while the input is read: a caller that does not pass blocks still gets each
  // one described before the first packet that needs it.
  let known = 0;
  return {
    write(pkt: WritablePacket, comments?: readonly string[] | null): void {
      const all = source.interfaces;
      while (known < all.length) w.addInterface(all[known++]!);
      w.write(pkt, comments);
    },
    addInterface: (iface) => w.addInterface(iface),
    writeInputBlock: (block) => w.writeInputBlock(block),
    releaseInput: () => w.releaseInput?.(),
    flush: () => w.flush?.(),
    close: () => w.close(),
    get count() {
      return w.count;
    },
  };
}
