/**
 * IP fragments of TCP datagrams, collected until the datagram is whole. The ASA reassembles
 * fragments before its inspection engines see them (its `fragment` command: at most `chain`
 * fragments per datagram, `size` fragments awaiting reassembly, `timeout` seconds for a set to
 * complete; defaults 24, 200 and 5). Here the whole datagram is inspected as one TCP segment, and
 * the edits are written back into the fragments it came in, so OUT keeps one record per input
 * packet. Off the hot path: only packets the decoder calls IP_FRAGMENT come here.
 */
import { DecodedPacket, PacketKind } from '../decode/packet.js';
import { formatIp } from '../decode/address.js';
import { onesComplementSum } from '../decode/checksum.js';
import type { QueueEntry } from './queue-entry.js';

/** The ASA's `fragment` defaults (per interface there; one database here). */
export const ASA_FRAGMENT_LIMITS = { chain: 24, size: 200, timeoutSec: 5 } as const;

export interface FragmentLimits {
  /** Fragments one datagram may come in; more and the whole set is discarded. */
  chain: number;
  /** Fragments held awaiting reassembly; a fragment beyond it is discarded. */
  size: number;
  /** Seconds (capture time) from a set's first fragment for it to complete. */
  timeoutSec: number;
}

const IP_PROTOCOL_TCP = 6;
const IPV6_HEADER = 40;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
/**
 * Sets remembered at once, per fragment the database may hold: settled sets stay known until their
 * timeout only so that their late fragments join them; beyond this the oldest settled ones are
 * forgotten (a flood of first fragments cannot grow the table without bound).
 */
const SETS_PER_HELD_FRAGMENT = 8;
/**
 * Bytes of reassembled datagrams kept for late copies of their fragments, over all known sets;
 * beyond it the oldest settled sets are forgotten (their late copies then start sets of their own).
 */
const FINAL_BYTES_MAX = 16 * 1024 * 1024;
/** Largest datagram IP can express: a fragment set that claims more is discarded (RFC 791, RFC 8200 §4.5). */
const MAX_DATAGRAM = 65535;
/** Shortest IPv4 header: the most payload an IPv4 datagram can carry is 65535 minus it. */
const IPV4_MIN_HEADER = 20;

export const DatagramState = {
  /** Fragments are being held until the set is complete. */
  COLLECTING: 0,
  /** Assembled and given to reassembly/inspection as one segment (`virtual` is its entry). */
  INSPECTED: 1,
  /** Not inspected (other ports, cut by the snaplen, bad set): its fragments pass as captured. */
  PASSED: 2,
  /** Never completed, or over the chain limit: its fragments are discarded (ASA profile) or passed. */
  ABANDONED: 3,
} as const;
export type DatagramState = (typeof DatagramState)[keyof typeof DatagramState];

/** One fragment held in the hold-back queue: where its data sits in the datagram and in its entry. */
export interface FragmentMember {
  /** Null once written (the entry goes back to the queue's pool). */
  entry: QueueEntry | null;
  /** Offset of the fragment's data in the datagram's payload (the IP fragment offset in bytes). */
  dataOffset: number;
  /** Captured data bytes of the fragment. */
  length: number;
  /** Index in entry.buffer of the first data byte (relative to entry.offset). */
  dataAt: number;
  /** Some of its data overlapped an earlier fragment's with different bytes (the earlier copy won). */
  conflict: boolean;
}

export class FragmentedDatagram {
  readonly key: string;
  readonly ipVersion: 4 | 6;
  /** Fragments not yet written, oldest first (written ones are shifted off: see `nextWritten`). */
  readonly members: FragmentMember[] = [];
  /** Fragments the set came in so far, written ones included (the chain limit counts them). */
  count = 0;
  /** Index in `members` of the next fragment to be written (the queue writes them in input order). */
  private written = 0;
  readonly startSec: number;
  readonly startNsec: number;
  state: DatagramState = DatagramState.COLLECTING;
  /** Why it was passed or abandoned (annotations, verdicts). */
  reason = '';
  /** The assembled datagram's entry, once inspected. */
  virtual: QueueEntry | null = null;
  /**
   * The datagram as inspected and edited, kept after its entry left the queue while the set is
   * still known (until its timeout), so that a late copy of a fragment is written with the same
   * bytes; `finalDrop` is the drop that took it, if any.
   */
  final: Buffer | null = null;
  finalDrop: { rule: string; detail: string } | null = null;
  /** `final` counts in the table's retained bytes (the set is known). */
  finalCounted = false;
  /** Source and destination as text, and the ports once the first fragment is seen. */
  readonly src: string;
  readonly dst: string;
  srcPort = -1;
  dstPort = -1;
  /** Payload length, known once the last fragment (more-fragments clear) arrived. */
  total = -1;
  /** The IP header (IPv4, options included) or unfragmentable part (IPv6) of the first fragment. */
  header: Buffer | null = null;
  /** IPv6: where in `header` the next-header byte naming the Fragment header sits. */
  nextHeaderAt = -1;
  /** IPv6: the Fragment header's next header (the upper-layer protocol). */
  upperProtocol = IP_PROTOCOL_TCP;
  /** A fragment was cut by the snaplen: its bytes are not all in the capture. */
  cut = false;
  /** Payload bytes, first copy wins where fragments overlap; `covered` marks the ones seen. */
  payload: Buffer = Buffer.alloc(0);
  private covered: Uint8Array = new Uint8Array(0);
  private coveredCount = 0;
  /** End of the furthest fragment data seen (a last fragment must not end before it). */
  maxEnd = 0;

  constructor(key: string, ipVersion: 4 | 6, src: string, dst: string, sec: number, nsec: number) {
    this.key = key;
    this.ipVersion = ipVersion;
    this.src = src;
    this.dst = dst;
    this.startSec = sec;
    this.startNsec = nsec;
  }

  /** Bytes before the payload in the assembled datagram (IP header, or IPv6 unfragmentable part). */
  get headerLength(): number {
    return this.header === null ? 0 : this.header.length;
  }

  get firstSeen(): boolean {
    return this.header !== null;
  }

  /** Every payload byte from 0 to the last fragment's end has arrived. */
  get complete(): boolean {
    return this.total >= 0 && this.coveredCount === this.total;
  }

  /** The member about to be written (the queue writes a set's fragments in input order). */
  takeMember(entry: QueueEntry): FragmentMember | null {
    let m: FragmentMember | null = null;
    const first = this.members[this.written];
    if (first !== undefined && first.entry === entry) {
      m = first;
      this.written++;
    } else {
      const i = this.members.findIndex((x) => x.entry === entry);
      if (i >= 0) m = this.members[i]!;
    }
    if (m !== null) m.entry = null;
    // Written members are not needed any more: a flood of one set's fragments stays small.
    if (this.written === this.members.length) {
      this.members.length = 0;
      this.written = 0;
    } else if (this.written > 64 && this.written * 2 > this.members.length) {
      this.members.splice(0, this.written);
      this.written = 0;
    }
    return m;
  }

  /** Copies fragment data at `offset` into the payload (first copy wins); true when a byte already there differed. */
  addData(src: Buffer, from: number, length: number, offset: number): boolean {
    const end = offset + length;
    if (end > this.maxEnd) this.maxEnd = end;
    if (end > this.payload.length) {
      const grown = Buffer.alloc(Math.min(MAX_DATAGRAM, Math.max(end, this.payload.length * 2, 2048)));
      this.payload.copy(grown);
      const cov = new Uint8Array(grown.length);
      cov.set(this.covered);
      this.payload = grown;
      this.covered = cov;
    }
    let differs = false;
    for (let i = 0; i < length; i++) {
      if (this.covered[offset + i] === 0) {
        this.covered[offset + i] = 1;
        this.payload[offset + i] = src[from + i]!;
        if (this.total < 0 || offset + i < this.total) this.coveredCount++;
      } else if (this.payload[offset + i] !== src[from + i]) differs = true;
    }
    return differs;
  }

  /**
   * Why the set cannot be one datagram, or null: its fragments disagree on where it ends, or it
   * would be longer than IP can express. Receivers discard such a set (Linux ip_fragment.c: "the
   * segment is corrupted"; RFC 8200 §4.5 for the length), so a firewall cannot know what they
   * would make of it.
   */
  inconsistency(offset: number, length: number, last: boolean): string | null {
    const end = offset + length;
    if (end > (this.ipVersion === 4 ? MAX_DATAGRAM - IPV4_MIN_HEADER : MAX_DATAGRAM)) return `a fragment ends at data byte ${end}, beyond the largest IP datagram`;
    if (this.total >= 0 && end > this.total) return `a fragment ends at data byte ${end}, after the last fragment's end (${this.total})`;
    if (last && this.total >= 0 && end !== this.total) return `two last fragments end at ${this.total} and ${end}`;
    if (last && end < this.maxEnd) return `the last fragment ends at ${end}, before data already seen (up to ${this.maxEnd})`;
    return null;
  }

  /** The last fragment fixed the payload length: bytes seen beyond it do not count. */
  setTotal(total: number): void {
    if (this.total >= 0) return;
    this.total = total;
    let n = 0;
    const lim = Math.min(total, this.covered.length);
    for (let i = 0; i < lim; i++) n += this.covered[i]!;
    this.coveredCount = n;
  }

  /**
   * A complete set whose datagram cannot be written as one IP packet: the first fragment's header
   * (IPv4 options, IPv6 extension headers) plus the data exceed the 16-bit length field. Checked
   * before assemble(), which could not store the length.
   */
  get tooLong(): boolean {
    const h = this.headerLength;
    return this.ipVersion === 4 ? h + this.total > MAX_DATAGRAM : h - IPV6_HEADER + this.total > MAX_DATAGRAM;
  }

  /** The datagram as one unfragmented packet (raw IP, LINKTYPE_RAW), fragment fields cleared. */
  assemble(): Buffer {
    const h = this.header!;
    const out = Buffer.alloc(h.length + this.total);
    h.copy(out, 0);
    this.payload.copy(out, h.length, 0, this.total);
    if (this.ipVersion === 4) {
      out.writeUInt16BE(h.length + this.total, 2);
      // Keep DF, clear more-fragments and the offset.
      out.writeUInt16BE(out.readUInt16BE(6) & 0x4000, 6);
      out.writeUInt16BE(0, 10);
      out.writeUInt16BE(~onesComplementSum(out, 0, h.length) & 0xffff, 10);
    } else {
      out.writeUInt16BE(h.length - IPV6_HEADER + this.total, 4);
      out[this.nextHeaderAt] = this.upperProtocol;
    }
    return out;
  }
}

/** What the decoder says about a fragment, read from its headers. */
export interface FragmentFields {
  ipVersion: 4 | 6;
  /** Upper-layer protocol (IPv4 protocol, IPv6 Fragment header's next header). */
  protocol: number;
  /** Payload offset in bytes. */
  offset: number;
  moreFragments: boolean;
  /** First data byte, relative to the packet's start in its buffer. */
  dataAt: number;
  /** Captured data bytes. */
  length: number;
  /** Data bytes the snaplen cut off. */
  missing: number;
  key: string;
}

/** Reads a decoded IP_FRAGMENT packet's fragment fields (null when it is not one). */
export function fragmentFields(pkt: DecodedPacket): FragmentFields | null {
  if (pkt.kind !== PacketKind.IP_FRAGMENT) return null;
  const d = pkt.data;
  const l3 = pkt.l3Offset;
  const dataStart = l3 + pkt.ipHeaderLength;
  const length = Math.max(0, pkt.ipEnd - dataStart);
  const missing = pkt.payloadMissing;
  const addr = d.toString('latin1', pkt.srcAddrOffset, pkt.srcAddrOffset + pkt.addrLength) + d.toString('latin1', pkt.dstAddrOffset, pkt.dstAddrOffset + pkt.addrLength);
  if (pkt.ipVersion === 4) {
    const field = d.readUInt16BE(l3 + 6);
    const id = d.readUInt16BE(l3 + 4);
    return {
      ipVersion: 4,
      protocol: pkt.protocol,
      offset: (field & 0x1fff) * 8,
      moreFragments: (field & 0x2000) !== 0,
      dataAt: dataStart - pkt.packetStart,
      length,
      missing,
      key: `4:${addr}:${pkt.protocol}:${id}`,
    };
  }
  const fh = dataStart - 8;
  const field = d.readUInt16BE(fh + 2);
  const id = d.readUInt32BE(fh + 4);
  return {
    ipVersion: 6,
    protocol: d[fh]!,
    offset: field & 0xfff8,
    moreFragments: (field & 1) !== 0,
    dataAt: dataStart - pkt.packetStart,
    length,
    missing,
    key: `6:${addr}:${id}`,
  };
}

/** The fragment's IP header (IPv4) or unfragmentable part (IPv6, without the Fragment header). */
function firstHeader(pkt: DecodedPacket, dg: FragmentedDatagram): void {
  const d = pkt.data;
  const l3 = pkt.l3Offset;
  if (pkt.ipVersion === 4) {
    dg.header = Buffer.from(d.subarray(l3, l3 + pkt.ipHeaderLength));
    return;
  }
  const fh = l3 + pkt.ipHeaderLength - 8;
  dg.header = Buffer.from(d.subarray(l3, fh));
  dg.upperProtocol = d[fh]!;
  // The next-header byte that names the Fragment header: the IPv6 header's, or that of the last
  // extension header before it (each starts with its next header; AH counts 4-byte units).
  let at = l3 + 6;
  let next = d[at]!;
  let pos = l3 + IPV6_HEADER;
  while (next !== IPV6_FRAGMENT && pos < fh) {
    const len = next === IPV6_AH ? (d[pos + 1]! + 2) * 4 : (d[pos + 1]! + 1) * 8;
    at = pos;
    next = d[pos]!;
    pos += len;
  }
  dg.nextHeaderAt = at - l3;
}

function newDatagram(f: FragmentFields, pkt: DecodedPacket, sec: number, nsec: number): FragmentedDatagram {
  const len = pkt.addrLength === 16 ? 16 : 4;
  return new FragmentedDatagram(f.key, f.ipVersion, formatIp(pkt.data, pkt.srcAddrOffset, len), formatIp(pkt.data, pkt.dstAddrOffset, len), sec, nsec);
}

/** The TCP ports, from a first fragment that carries them. */
function takePorts(dg: FragmentedDatagram, f: FragmentFields, pkt: DecodedPacket): void {
  if (f.offset !== 0 || f.protocol !== IP_PROTOCOL_TCP || f.length < 4) return;
  const at = pkt.packetStart + f.dataAt;
  dg.srcPort = pkt.data.readUInt16BE(at);
  dg.dstPort = pkt.data.readUInt16BE(at + 2);
}

/** The fragments being collected, oldest set first (Map order) for the timeout. */
export class FragmentTable {
  private readonly open = new Map<string, FragmentedDatagram>();
  /** Fragments held by sets still collecting. */
  held = 0;
  readonly limits: FragmentLimits;

  constructor(limits: FragmentLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.open.size;
  }

  /** The set a fragment belongs to, made if new (null when the database is full). */
  datagramFor(f: FragmentFields, pkt: DecodedPacket, sec: number, nsec: number): FragmentedDatagram | null {
    const known = this.open.get(f.key);
    if (known !== undefined) return known;
    if (this.held >= this.limits.size) return null;
    if (this.open.size >= this.limits.size * SETS_PER_HELD_FRAGMENT) this.forgetOldestSettled();
    const dg = newDatagram(f, pkt, sec, nsec);
    this.open.set(f.key, dg);
    return dg;
  }

  /** A set for one fragment that is not collected (the database is full): never in the table. */
  standalone(f: FragmentFields, pkt: DecodedPacket, sec: number, nsec: number): FragmentedDatagram {
    const dg = newDatagram(f, pkt, sec, nsec);
    // A first fragment still tells its ports (traffic on other ports passes).
    takePorts(dg, f, pkt);
    return dg;
  }

  /**
   * Adds a held fragment to its set. Returns false when it cannot be assembled with it (the set
   * is then PASSED with a reason); the caller decides what the set's state means for the member.
   */
  add(dg: FragmentedDatagram, entry: QueueEntry, f: FragmentFields, pkt: DecodedPacket): void {
    const member: FragmentMember = { entry, dataOffset: f.offset, length: f.length, dataAt: f.dataAt, conflict: false };
    dg.members.push(member);
    dg.count++;
    if (dg.state !== DatagramState.COLLECTING) return;
    this.held++;
    if (f.missing > 0) {
      dg.cut = true;
      return;
    }
    const bad = dg.inconsistency(f.offset, f.length + f.missing, !f.moreFragments);
    if (bad !== null) {
      this.settle(dg, DatagramState.ABANDONED, `malformed fragment set (${bad})`);
      return;
    }
    if (f.offset === 0 && dg.header === null) {
      firstHeader(pkt, dg);
      takePorts(dg, f, pkt);
    }
    member.conflict = dg.addData(entry.buffer, entry.offset + f.dataAt, f.length, f.offset);
    if (!f.moreFragments) dg.setTotal(f.offset + f.length);
  }

  /** The set leaves the collecting table with a final state. */
  settle(dg: FragmentedDatagram, state: DatagramState, reason: string): void {
    if (dg.state === DatagramState.COLLECTING) this.held -= dg.count;
    dg.state = state;
    dg.reason = reason;
    // Its payload copy is no longer needed once assembled or given up.
    dg.payload = Buffer.alloc(0);
  }

  pass(dg: FragmentedDatagram, reason: string): void {
    this.settle(dg, DatagramState.PASSED, reason);
  }

  /** Bytes of reassembled datagrams kept for late copies (bounded by FINAL_BYTES_MAX). */
  private finalBytes = 0;

  /** Keeps a reassembled datagram's final bytes for late copies while its set is known. */
  retainFinal(dg: FragmentedDatagram, bytes: Buffer, drop: { rule: string; detail: string } | null): void {
    dg.final = bytes;
    dg.finalDrop = drop;
    if (this.open.get(dg.key) !== dg) return;
    dg.finalCounted = true;
    this.finalBytes += bytes.length;
    while (this.finalBytes > FINAL_BYTES_MAX && this.forgetOldestSettled());
  }

  /** The set left the table: its kept bytes no longer count (entries still holding it keep them). */
  private released(dg: FragmentedDatagram): void {
    if (!dg.finalCounted) return;
    dg.finalCounted = false;
    this.finalBytes -= dg.final?.length ?? 0;
  }

  private forgetOldestSettled(): boolean {
    for (const dg of this.open.values()) {
      if (dg.state !== DatagramState.COLLECTING) {
        this.open.delete(dg.key);
        this.released(dg);
        return true;
      }
    }
    return false;
  }

  /** Forgets a set: later fragments with its key start a new one. */
  forget(dg: FragmentedDatagram): void {
    if (this.open.get(dg.key) === dg) {
      this.open.delete(dg.key);
      this.released(dg);
    }
  }

  /** Sets whose timeout passed at capture time (sec, nsec), oldest first; they are forgotten. */
  expired(sec: number, nsec: number): FragmentedDatagram[] {
    const out: FragmentedDatagram[] = [];
    const t = this.limits.timeoutSec;
    for (const dg of this.open.values()) {
      const waited = sec - dg.startSec + (nsec - dg.startNsec) * 1e-9;
      if (waited <= t) break;
      out.push(dg);
    }
    for (const dg of out) {
      this.open.delete(dg.key);
      this.released(dg);
    }
    return out;
  }

  /** Every set still known (end of input). */
  drain(): FragmentedDatagram[] {
    const all = [...this.open.values()];
    this.open.clear();
    for (const dg of all) this.released(dg);
    return all;
  }
}
