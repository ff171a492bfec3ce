/**
 * A PacketWriter that writes nothing to disk: it hashes every record (timestamp, lengths, bytes,
 * comments) and keeps the comments as text. Regress compares these record digests instead of
 * file hashes so the volatile parts of a capture file (pcapng SHB/IDB options naming the writing
 * application, OS and hardware) do not make a case fail, while every packet byte still counts.
 */
import { createHash, type Hash } from 'node:crypto';
import type { CaptureInterface, PacketWriter, WritablePacket } from '../capture/types.js';

export class DigestWriter implements PacketWriter {
  private readonly hash: Hash = createHash('sha256');
  private readonly head = Buffer.alloc(20);
  private n = 0;
  /** "packet<TAB>comment" lines (1-based record number), when comments are kept. */
  readonly comments: string[] = [];
  /**
   * "record<TAB>time<TAB>captured/original length<TAB>16 hex digits of the record's sha256" for the
   * first `recordLimit` records: kept in the expectations so a digest mismatch can name the first
   * record that differs and how (time, length or bytes). Bounded, so memory is too.
   */
  readonly records: string[] = [];

  constructor(
    private readonly keepComments = false,
    private readonly recordLimit = 0,
  ) {}

  addInterface(iface: CaptureInterface): void {
    // link type matters for the bytes' meaning; names/descriptions are volatile and left out
    const b = Buffer.alloc(8);
    b.writeUInt32BE(iface.index >>> 0, 0);
    b.writeUInt32BE(iface.linkType >>> 0, 4);
    this.hash.update('I');
    this.hash.update(b);
  }

  write(pkt: WritablePacket, comments?: readonly string[] | null): void {
    this.n++;
    const h = this.head;
    h.writeUInt32BE(pkt.interfaceIndex >>> 0, 0);
    h.writeUInt32BE(pkt.tsSec >>> 0, 4);
    h.writeUInt32BE(pkt.tsNsec >>> 0, 8);
    h.writeUInt32BE(pkt.originalLength >>> 0, 12);
    h.writeUInt32BE(pkt.data.length >>> 0, 16);
    this.hash.update('P');
    this.hash.update(h);
    this.hash.update(pkt.data);
    const one = this.n <= this.recordLimit ? createHash('sha256').update(h).update(pkt.data) : null;
    if (comments && comments.length > 0) {
      for (const c of comments) {
        this.hash.update('C');
        this.hash.update(c);
        this.hash.update('\0');
        one?.update('C').update(c).update('\0');
        if (this.keepComments) this.comments.push(`${this.n}\t${c.replace(/[\r\n\t]/g, ' ')}`);
      }
    }
    if (one) {
      const time = `${pkt.tsSec}.${String(pkt.tsNsec).padStart(9, '0')}`;
      this.records.push(`${this.n}\t${time}\t${pkt.data.length}/${pkt.originalLength}\t${one.digest('hex').slice(0, 16)}`);
    }
  }

  async close(): Promise<void> {
    // nothing to flush
  }

  get count(): number {
    return this.n;
  }

  /** The hex digest (call once, after the replay). */
  digest(): string {
    return this.hash.digest('hex');
  }
}
