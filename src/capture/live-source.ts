/**
 * A CaptureSource over a live network device, through libpcap (the optional `cap` binding).
 * It behaves like a file reader to the rest of the pipeline: one interface, records numbered from
 * 1, `run()` resolving once `stop()` is called (SIGINT/SIGTERM). Records are copied out of cap's
 * shared buffer and stamped on arrival (see live-clock.ts for why and how accurately).
 */
import type { CaptureInterface, CaptureSource, PcapFileHeader, ReadStats } from './types.js';
import { CaptureRecord } from './types.js';
import { CAP_SNAPLEN, openDevice, type OpenedHandle } from './live-cap.js';
import { ArrivalClock, SlabCopier } from './live-clock.js';
import { nanosecondPcapHeader } from './pcap-writer.js';

export { defaultFilter, listDevices, formatDevices, loadCap, ENABLE_LIVE_HINT } from './live-cap.js';

export interface LiveSourceOptions {
  device: string;
  /** BPF filter ('' = everything). */
  filter: string;
  kernelBuffer?: number;
}

export interface LiveStats extends ReadStats {
  /** Records whose IP length says more was on the wire than libpcap's 65535-byte snaplen kept. */
  snapTruncated: number;
  /** Exceptions thrown by the record handler (logged, never allowed to kill the capture loop). */
  handlerErrors: number;
}

export class LiveSource implements CaptureSource {
  readonly format = 'pcap' as const;
  readonly gzip = false;
  readonly path: string;
  readonly pcapHeader: PcapFileHeader;
  readonly interfaces: CaptureInterface[];
  readonly linkName: string;

  private readonly opened: OpenedHandle;
  private readonly clock = new ArrivalClock();
  private readonly copier = new SlabCopier();
  private stopResolve: (() => void) | null = null;
  private stopped = false;
  private closed = false;
  private readonly stats: LiveStats = { format: 'pcap', packets: 0, bytes: 0, truncatedRecords: 0, snapTruncated: 0, handlerErrors: 0 };
  /** Called with the first handler error (for logging); the capture goes on. */
  onHandlerError: ((err: unknown) => void) | null = null;

  private constructor(readonly device: string, readonly filter: string, opened: OpenedHandle) {
    this.opened = opened;
    this.linkName = opened.linkName;
    this.path = `live:${device}`;
    // A nanosecond classic-pcap header: writers that copy headers get ns timestamps, and the
    // records' tsRawHigh/tsRawLow are (seconds, nanoseconds) in that format.
    this.pcapHeader = nanosecondPcapHeader(opened.linkType, CAP_SNAPLEN);
    this.interfaces = [
      {
        index: 0,
        section: 0,
        linkType: opened.linkType,
        snaplen: CAP_SNAPLEN,
        tsResolutionBase: 10,
        tsResolutionExponent: 9,
        tsOffsetSeconds: 0,
        name: device,
        description: filter ? `live capture, filter: ${filter}` : 'live capture',
        rawOptions: null,
        littleEndian: true,
      },
    ];
  }

  /** Opens the device now (so permission/device/filter errors surface before anything else runs). */
  static async open(opts: LiveSourceOptions): Promise<LiveSource> {
    const opened = await openDevice({ device: opts.device, filter: opts.filter, ...(opts.kernelBuffer ? { kernelBuffer: opts.kernelBuffer } : {}) });
    return new LiveSource(opts.device, opts.filter, opened);
  }

  get littleEndian(): boolean {
    return this.pcapHeader.littleEndian;
  }

  get timePrecisionDigits(): number {
    return 9; // the nanosecond header above
  }

  get linkType(): number {
    return this.opened.linkType;
  }

  run(onRecord: (rec: CaptureRecord) => void, onInterface?: (iface: CaptureInterface) => void): Promise<LiveStats> {
    const iface = this.interfaces[0];
    if (iface && onInterface) onInterface(iface);
    const rec = new CaptureRecord();
    rec.interfaceIndex = 0;
    rec.linkType = this.opened.linkType;
    rec.timestampKnown = true; // the capture clock stamps every packet
    const { buffer, handle, linkType } = this.opened;
    handle.on('packet', (nbytes: number) => {
      if (this.stopped) return;
      // cap overwrites `buffer` with the next packet as soon as this callback returns.
      const data = this.copier.copy(buffer, nbytes);
      this.clock.stamp(rec);
      rec.packetNumber = ++this.stats.packets;
      rec.fileOffset = this.stats.bytes;
      rec.tsRawHigh = rec.tsSec;
      rec.tsRawLow = rec.tsNsec;
      rec.captureLength = nbytes;
      rec.originalLength = originalLength(data, nbytes, linkType);
      rec.data = data;
      rec.comments = null;
      rec.epbFlags = 0;
      this.stats.bytes += nbytes;
      if (rec.originalLength > nbytes) {
        this.stats.truncatedRecords++;
        this.stats.snapTruncated++;
      }
      try {
        onRecord(rec);
      } catch (err) {
        // An exception escaping here would surface as an uncaught error inside libuv's poll
        // callback; count and report it instead, the capture continues.
        if (this.stats.handlerErrors++ === 0) this.onHandlerError?.(err);
      }
    });
    return new Promise<LiveStats>((resolve) => {
      this.stopResolve = () => resolve(this.stats);
      if (this.stopped) this.finishStop();
    });
  }

  /** Stops delivering records and closes the handle; run() then resolves. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.finishStop();
  }

  private finishStop(): void {
    if (!this.closed) {
      this.closed = true;
      this.opened.handle.removeAllListeners('packet');
      this.opened.handle.close();
    }
    const r = this.stopResolve;
    this.stopResolve = null;
    r?.();
  }

  get packetCount(): number {
    return this.stats.packets;
  }
}

/**
 * cap passes only the captured length. When a record fills the whole 65535-byte snaplen (possible
 * on loopback, whose MTU is 65536), the IP header's length field tells what was really on the wire.
 */
export function originalLength(data: Buffer, caplen: number, linkType: number): number {
  if (caplen < CAP_SNAPLEN) return caplen;
  let l3: number;
  switch (linkType) {
    case 1: {
      l3 = 14;
      let etherType = data.length >= 14 ? data.readUInt16BE(12) : 0;
      while ((etherType === 0x8100 || etherType === 0x88a8) && data.length >= l3 + 4) {
        etherType = data.readUInt16BE(l3 + 2);
        l3 += 4;
      }
      break;
    }
    case 0:
      l3 = 4;
      break;
    case 101:
      l3 = 0;
      break;
    case 113:
      l3 = 16;
      break;
    case 276:
      l3 = 20;
      break;
    default:
      return caplen;
  }
  if (data.length < l3 + 20) return caplen;
  const version = (data[l3] ?? 0) >> 4;
  let ipLen = 0;
  if (version === 4) ipLen = data.readUInt16BE(l3 + 2);
  else if (version === 6 && data.length >= l3 + 40) ipLen = 40 + data.readUInt16BE(l3 + 4);
  return Math.max(caplen, l3 + ipLen);
}
