/**
 * One packet on its way to the outputs. The pipeline reuses a single entry for the packet being
 * processed and only clones it (copying the bytes) when the packet has to wait in the hold-back
 * queue, so packets that go straight out cost no allocation.
 */
import type { CaptureRecord, WritablePacket } from '../capture/types.js';
import type { Direction } from '../flow/types.js';
import type { ConnState } from './conn-state.js';

export class QueueEntry implements WritablePacket {
  packetNumber = 0;
  interfaceIndex = 0;
  linkType = 0;
  tsSec = 0;
  tsNsec = 0;
  tsRawHigh = 0;
  tsRawLow = 0;
  originalLength = 0;
  data: Buffer = Buffer.alloc(0);
  /** `data` is this entry's own copy (may be modified and kept). */
  owned = false;
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

  load(rec: CaptureRecord): void {
    this.packetNumber = rec.packetNumber;
    this.interfaceIndex = rec.interfaceIndex;
    this.linkType = rec.linkType;
    this.tsSec = rec.tsSec;
    this.tsNsec = rec.tsNsec;
    this.tsRawHigh = rec.tsRawHigh;
    this.tsRawLow = rec.tsRawLow;
    this.originalLength = rec.originalLength;
    this.data = rec.data;
    this.owned = false;
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
  }

  /** A queued copy: bytes copied unless already owned. */
  clone(): QueueEntry {
    const e = new QueueEntry();
    Object.assign(e, this);
    if (!this.owned) {
      e.data = Buffer.from(this.data);
      e.owned = true;
    }
    e.comments = this.comments ? [...this.comments] : null;
    return e;
  }

  /** Makes `data` writable without touching the reader's buffer. Returns true if it was copied. */
  own(): boolean {
    if (this.owned) return false;
    this.data = Buffer.from(this.data);
    this.owned = true;
    return true;
  }

  note(text: string): void {
    if (this.comments === null) this.comments = [text];
    else if (!this.comments.includes(text)) this.comments.push(text);
  }
}
