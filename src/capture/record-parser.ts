/**
 * The synchronous core every input path shares: a resumable parser over a byte window. The
 * driver (open.ts) fills the window from a file, stdin or a gunzip stream; the parser consumes
 * whole records only, so a chunk boundary anywhere gives the same result.
 */
import type { CaptureBlock, CaptureFormat, CaptureInterface, CaptureRecord, SkippedBlock } from './types.js';

export interface RecordSink {
  onRecord: (rec: CaptureRecord) => void;
  onInterface: ((iface: CaptureInterface) => void) | undefined;
  /** After each parse() call, before the buffer it parsed can be refilled (CaptureSource.run). */
  onRelease?: (() => void) | undefined;
  /** pcapng blocks that carry no packet, in file order (CaptureSource.run's onBlock). */
  onBlock?: ((block: CaptureBlock) => void) | undefined;
  /** pcapng blocks too large to buffer, passed over (CaptureSource.run's onSkippedBlock). */
  onSkippedBlock?: ((block: SkippedBlock) => void) | undefined;
  /** Set by stop(): the parser returns after the current record. */
  stopped: boolean;
}

/** A unit the parser is passing over across parse() calls without buffering it. */
export interface PassingUnit {
  /** Input offset of its first byte. */
  offset: number;
  /** Its length as its header states it. */
  length: number;
  /** Its bytes consumed so far (the window holds at most a few more). */
  consumed: number;
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
  /** Set while a unit is being passed over unbuffered (pcapng's oversized non-packet blocks). */
  readonly passing?: PassingUnit | null;
  /** Units passed over whole so far, and their bytes (pcapng). */
  skippedBlocks?: number;
  skippedBlockBytes?: number;
  /** Non-packet units Wireshark numbers as frames (ReadStats.otherFrames). */
  otherFrames?: number;
  /**
   * Consumes every whole record/block in buf[start, end), where buf[0] sits at input offset
   * `base`, and returns the offset of the first byte not consumed. Throws CaptureError on a
   * corrupt unit, after every earlier record has been delivered.
   */
  parse(buf: Buffer, start: number, end: number, base: number, sink: RecordSink): number;
}
