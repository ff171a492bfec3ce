/**
 * The synchronous core every input path shares: a resumable parser over a byte window. The
 * driver (open.ts) fills the window from a file, stdin or a gunzip stream; the parser consumes
 * whole records only, so a chunk boundary anywhere gives the same result.
 */
import type { CaptureBlock, CaptureFormat, CaptureInterface, CaptureRecord } from './types.js';

export interface RecordSink {
  onRecord: (rec: CaptureRecord) => void;
  onInterface: ((iface: CaptureInterface) => void) | undefined;
  /** After each parse() call, before the buffer it parsed can be refilled (CaptureSource.run). */
  onRelease?: (() => void) | undefined;
  /** pcapng blocks that carry no packet, in file order (CaptureSource.run's onBlock). */
  onBlock?: ((block: CaptureBlock) => void) | undefined;
  /** Set by stop(): the parser returns after the current record. */
  stopped: boolean;
}

export interface RecordParser {
  readonly format: CaptureFormat;
  /** "record" or "block", for messages. */
  readonly unitName: string;
  packets: number;
  truncatedRecords: number;
  /**
   * Bytes the unit starting at the returned offset needs in total (header included), known once
   * its header is readable; otherwise the header size. Valid after parse() returned short.
   */
  needed: number;
  /**
   * Consumes every whole record/block in buf[start, end), where buf[0] sits at input offset
   * `base`, and returns the offset of the first byte not consumed. Throws CaptureError on a
   * corrupt unit, after every earlier record has been delivered.
   */
  parse(buf: Buffer, start: number, end: number, base: number, sink: RecordSink): number;
}
