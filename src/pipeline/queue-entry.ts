/**
 * One packet on its way to the outputs. The pipeline reuses a single entry for the packet being
 * processed and only copies it (bytes included, into a pooled entry of the hold-back queue) when
 * the packet has to wait, so packets that go straight out cost no allocation.
 */
import type { CaptureBlock, CaptureRecord, WritablePacket } from '../capture/types.js';
import type { Direction } from '../flow/types.js';
import type { ConnState } from './conn-state.js';
import type { FragmentedDatagram } from './ip-defrag.js';

const EMPTY = Buffer.alloc(0);
/** Enough for a full Ethernet frame: most stores never grow. */
const MIN_STORE = 2048;

export class QueueEntry implements WritablePacket {
  packetNumber = 0;
  interfaceIndex = 0;
  linkType = 0;
  tsSec = 0;
  tsNsec = 0;
  tsRawHigh = 0;
  tsRawLow = 0;
  originalLength = 0;
  /**
   * The packet's bytes are buffer[offset, offset + captureLength): the reader's window for the
   * packet being processed (no view made), or this entry's own store once copied.
   */
  buffer: Buffer = EMPTY;
  offset = 0;
  captureLength = 0;
  /** The bytes are this entry's own copy (may be modified and kept). */
  owned = false;
  /** The bytes are the reader's buffer, untouched (WritablePacket.fromInput). */
  fromInput = false;
  /** pcapng epb_flags of the input packet (direction, reception type), carried to the outputs. */
  epbFlags = 0;
  /**
   * pcapng: the packet's input block is buffer[blockOffset, blockOffset + blockLength) (0: none),
   * copied along with the bytes, so a pcapng writer keeps the block's type and options
   * (WritablePacket.blockOffset).
   */
  blockOffset = 0;
  blockLength = 0;
  /**
   * The bytes as they arrived, kept (only for the annotated capture) once they are changed: a
   * dropped packet is shown there as it arrived, not with the edits made before the drop.
   */
  arrived: Buffer | null = null;
  /** Where the packet's bytes start in `arrived` (a copy of its whole pcapng block when it had one). */
  private arrivedOffset = 0;
  private arrivedBlock = false;
  /**
   * This entry's byte store, reused from packet to packet (the pipeline's current entry and the
   * hold-back queue's pooled entries), so owning a copy rarely allocates more than a view.
   */
  private store: Buffer | null = null;
  /** pcapng comments carried by the input packet. */
  inputComments: string[] | null = null;
  /** What the pipeline did or saw on this packet (annotate output). */
  comments: string[] | null = null;
  conn: ConnState | null = null;
  dir: Direction = 0;
  streamOffset = 0;
  payloadLength = 0;
  /** Waiting for its bytes to be committed by the inspector. */
  waiting = false;
  /** Was held back at least once (annotated when it leaves). */
  wasHeld = false;
  dropped = false;
  /** Why it is dropped: the verdict written for it. */
  dropRule = '';
  dropDetail = '';
  dropSyslog: string | null = null;
  /** A packet the pipeline made (RST), not an input packet. */
  synthesized = false;
  modified = false;
  /** TCP checksum verified in the input before any change (null = not judged). */
  inputChecksumOk: boolean | null = null;
  /** An IP fragment held with its set: written when the set is settled (ip-defrag.ts). */
  fragment: FragmentedDatagram | null = null;
  /**
   * The assembled datagram of a fragment set, inspected as one segment: never written itself;
   * its fragments are written with its bytes and fate.
   */
  datagram: FragmentedDatagram | null = null;
  /**
   * Input blocks that carry no packet (custom, NRB, ISB, DSB, journal...) read after this packet
   * while it was held: written right after it, so they keep their place among the packets.
   */
  blocksAfter: CaptureBlock[] | null = null;

  /** The packet's bytes as a view (made on each call: off the hot path). */
  get data(): Buffer {
    const b = this.buffer;
    return this.offset === 0 && this.captureLength === b.length ? b : b.subarray(this.offset, this.offset + this.captureLength);
  }

  /** Points the entry at `bytes` as a whole (synthesised packets). */
  set data(bytes: Buffer) {
    this.buffer = bytes;
    this.offset = 0;
    this.captureLength = bytes.length;
    this.fromInput = false;
    this.epbFlags = 0;
    this.arrived = null;
    this.blockOffset = 0;
    this.blockLength = 0;
  }

  load(
    rec: Pick<CaptureRecord, 'packetNumber' | 'interfaceIndex' | 'linkType' | 'tsSec' | 'tsNsec' | 'tsRawHigh' | 'tsRawLow' | 'originalLength' | 'buffer' | 'offset' | 'captureLength' | 'comments'> & {
      epbFlags?: number;
      blockOffset?: number;
      blockLength?: number;
    },
  ): void {
    this.packetNumber = rec.packetNumber;
    this.interfaceIndex = rec.interfaceIndex;
    this.linkType = rec.linkType;
    this.tsSec = rec.tsSec;
    this.tsNsec = rec.tsNsec;
    this.tsRawHigh = rec.tsRawHigh;
    this.tsRawLow = rec.tsRawLow;
    this.originalLength = rec.originalLength;
    this.buffer = rec.buffer;
    this.offset = rec.offset;
    this.captureLength = rec.captureLength;
    this.owned = false;
    this.fromInput = true;
    this.epbFlags = rec.epbFlags ?? 0;
    this.blockOffset = rec.blockOffset ?? 0;
    this.blockLength = rec.blockLength ?? 0;
    this.arrived = null;
    this.inputComments = rec.comments;
    this.comments = null;
    this.conn = null;
    this.dir = 0;
    this.streamOffset = 0;
    this.payloadLength = 0;
    this.waiting = false;
    this.wasHeld = false;
    this.dropped = false;
    this.dropRule = '';
    this.dropDetail = '';
    this.dropSyslog = null;
    this.synthesized = false;
    this.modified = false;
    this.inputChecksumOk = null;
    this.fragment = null;
    this.datagram = null;
    this.blocksAfter = null;
  }

  /** Becomes a copy of `src` for the hold-back queue: every field, the bytes into this entry's store. */
  copyFrom(src: QueueEntry): void {
    this.packetNumber = src.packetNumber;
    this.interfaceIndex = src.interfaceIndex;
    this.linkType = src.linkType;
    this.tsSec = src.tsSec;
    this.tsNsec = src.tsNsec;
    this.tsRawHigh = src.tsRawHigh;
    this.tsRawLow = src.tsRawLow;
    this.originalLength = src.originalLength;
    this.captureLength = src.captureLength;
    this.copyBytes(src.buffer, src.offset, src.blockOffset, src.blockLength);
    this.owned = true;
    this.fromInput = false;
    this.epbFlags = src.epbFlags;
    this.arrived = src.arrived;
    this.arrivedOffset = src.arrivedOffset;
    this.arrivedBlock = src.arrivedBlock;
    this.inputComments = src.inputComments;
    this.comments = src.comments === null ? null : src.comments.slice();
    this.conn = src.conn;
    this.dir = src.dir;
    this.streamOffset = src.streamOffset;
    this.payloadLength = src.payloadLength;
    this.waiting = src.waiting;
    this.wasHeld = src.wasHeld;
    this.dropped = src.dropped;
    this.dropRule = src.dropRule;
    this.dropDetail = src.dropDetail;
    this.dropSyslog = src.dropSyslog;
    this.synthesized = src.synthesized;
    this.modified = src.modified;
    this.inputChecksumOk = src.inputChecksumOk;
    this.fragment = src.fragment;
    this.datagram = src.datagram;
  }

  /** Makes `data` writable without touching the reader's buffer. Returns true if it was copied. */
  own(): boolean {
    if (this.owned) return false;
    this.copyBytes(this.buffer, this.offset, this.blockOffset, this.blockLength);
    this.owned = true;
    this.fromInput = false;
    return true;
  }

  /** Drops references to packet bytes and connection (the entry goes back to a pool); keeps the store. */
  clearRefs(): void {
    this.buffer = EMPTY;
    this.offset = 0;
    this.captureLength = 0;
    this.owned = false;
    this.fromInput = false;
    this.blockOffset = 0;
    this.blockLength = 0;
    this.arrived = null;
    this.inputComments = null;
    this.comments = null;
    this.conn = null;
    this.fragment = null;
    this.datagram = null;
  }

  /** Before the first change to the bytes: keeps a copy of them as they arrived (see `arrived`). */
  keepArrived(): void {
    if (this.arrived !== null) return;
    const bl = this.blockLength;
    const from = bl > 0 ? this.blockOffset : this.offset;
    this.arrived = Buffer.from(this.buffer.subarray(from, bl > 0 ? from + bl : from + this.captureLength));
    this.arrivedOffset = this.offset - from;
    this.arrivedBlock = bl > 0;
  }

  /** Points the entry at the bytes as they arrived, when it kept them (a dropped packet's annotation). */
  showArrived(): void {
    const a = this.arrived;
    if (a === null) return;
    this.buffer = a;
    this.offset = this.arrivedOffset;
    this.blockOffset = 0;
    this.blockLength = this.arrivedBlock ? a.length : 0;
    this.fromInput = false;
  }

  /**
   * Points the entry at a copy, in its store, of its bytes src[offset, offset + captureLength) —
   * of their whole pcapng block src[blockOffset, blockOffset + blockLength) when there is one.
   */
  private copyBytes(src: Buffer, offset: number, blockOffset: number, blockLength: number): void {
    if (blockLength > 0) {
      this.buffer = this.copyIntoStore(src, blockOffset, blockLength);
      this.offset = offset - blockOffset;
      this.blockOffset = 0;
      this.blockLength = blockLength;
    } else {
      this.buffer = this.copyIntoStore(src, offset, this.captureLength);
      this.offset = 0;
      this.blockOffset = 0;
      this.blockLength = 0;
    }
  }

  /** Copies src[from, from + len) to the start of this entry's store and returns the store. */
  private copyIntoStore(src: Buffer, from: number, len: number): Buffer {
    let s = this.store;
    if (s === null || s.length < len) {
      // Not from Buffer's shared pool: a kept store must not pin pool slabs.
      s = Buffer.allocUnsafeSlow(Math.max(len, MIN_STORE));
      this.store = s;
    }
    src.copy(s, 0, from, from + len);
    return s;
  }

  note(text: string): void {
    if (this.comments === null) this.comments = [text];
    else if (!this.comments.includes(text)) this.comments.push(text);
  }
}
