/** What the inspection pipeline is built from and what it reports. */
import type { FragmentLimits } from './ip-defrag.js';
import type { CaptureBlock, CaptureFormat, CaptureInterface, PacketWriter } from '../capture/types.js';
import type { ChecksumMode } from '../decode/checksum.js';
import type { FlowOptions } from '../flow/options.js';
import type { EngineOptions } from '../inspect/options.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { VerdictRecord } from '../output/verdicts.js';

/**
 * 'asa' (default): inspected connections keep only 3 out-of-order packets per direction for 4 s
 * and the rest are dropped, as the ASA does. 'analysis': generous reassembly, nothing dropped for
 * being out of order.
 */
export type PipelineProfile = 'asa' | 'analysis';

/** A packet writer that may learn interfaces as the input reveals them (pcapng). */
export type InterfaceAwareWriter = PacketWriter & { addInterface?(iface: CaptureInterface): void; writeInputBlock?(block: CaptureBlock): void };

export interface PipelineOutputs {
  /** OUT: what the firewall would forward (plus synthesised RSTs). */
  packets: InterfaceAwareWriter | null;
  /** Every input packet (dropped ones too) and every synthesised one, with comments. */
  annotate: InterfaceAwareWriter | null;
  verdicts: ((r: VerdictRecord) => void) | null;
  /** One ASA syslog line at a capture time. */
  syslog: ((line: string, tsSec: number, tsNsec: number) => void) | null;
}

export interface PipelineOptions {
  policy: CompiledPolicy;
  engineOptions?: EngineOptions;
  profile?: PipelineProfile;
  /** Overrides applied after the profile's reassembly settings. */
  flowOptions?: Partial<FlowOptions>;
  checksumMode?: ChecksumMode;
  outputs: PipelineOutputs;
  /**
   * ASA interface names for syslog lines (default 'outside' for clients, 'inside' for servers).
   * When neither is given and the policy's config names interfaces with addresses
   * (CompiledPolicy.interfaceRouting), each connection's pair comes from its addresses instead.
   */
  clientInterface?: string;
  serverInterface?: string;
  /** Input format: how synthesised packets' raw timestamps are written (default 'pcap'). */
  format?: CaptureFormat;
  /** Hold-back bound: packets (default 10000) and bytes (default 64 MiB) waiting for a decision. */
  maxHeldPackets?: number;
  maxHeldBytes?: number;
  /**
   * IP fragments of TCP datagrams are collected and each complete datagram is inspected as one
   * segment, as the ASA reassembles fragments before inspection. The fragment database's limits
   * (default the ASA's `fragment` defaults: chain 24, size 200, timeout 5 s).
   */
  fragmentLimits?: Partial<FragmentLimits>;
}

export const DEFAULT_MAX_HELD_PACKETS = 10_000;
export const DEFAULT_MAX_HELD_BYTES = 64 * 1024 * 1024;

export interface ReplaySummary {
  connections: {
    /** Connections on selected ports seen by reassembly. */
    tracked: number;
    inspected: number;
    /** Selected by no inspecting class (e.g. an ACL exemption). */
    exempted: number;
    /** Refused by a connection limit (their packets are dropped). */
    denied: number;
    /** Inspected connections ended by drop-connection or reset. */
    dropped: number;
    reset: number;
  };
  packets: {
    in: number;
    /** Records written to OUT: forwarded + synthesised. */
    out: number;
    /** Input packets written to OUT (in = forwarded + dropped). */
    forwarded: number;
    /** Forwarded packets whose bytes were changed. */
    modified: number;
    dropped: number;
    synthesized: number;
    /** Held packets forwarded before their bytes were decided (hold-back limit). */
    forcedForward: number;
    /** Packets whose TCP checksum was valid in the input and is not in OUT (must stay 0). */
    checksumBroken: number;
    /** Most packets held back at once. */
    maxHeld: number;
  };
  /**
   * Stream bytes never seen in the capture (reassembly gaps, not counting payload cut by the
   * snaplen): in a live capture, most likely packets the kernel dropped (ring buffer full).
   */
  gaps: {
    count: number;
    bytes: number;
    /** Connections with at least one such gap. */
    connections: number;
    /** Packets of tracked connections whose TCP payload the snaplen cut, and the bytes cut off. */
    cutPackets: number;
    cutBytes: number;
  };
  bytesIn: number;
  edits: number;
  verdicts: number;
  syslogLines: number;
  /** `show service-policy inspect esmtp` text. */
  servicePolicy: string;
  /**
   * pcapng blocks carrying no packet that were too large to buffer, passed over by the reader and
   * so left out of OUT and the annotated capture (set by the replay command; absent when none).
   */
  skippedBlocks?: SkippedBlockNote[];
  /**
   * Set when each connection's interfaces come from the config's interfaces and routes: what they
   * are (`outside (security-level 0, 203.0.113.0/24, default route); inside (...)`).
   */
  interfacesFromConfig?: string;
}

/** One input block left out of the outputs (see ReplaySummary.skippedBlocks). */
export interface SkippedBlockNote {
  /** pcapng block type number and its name ("Decryption Secrets Block"). */
  type: number;
  typeName: string;
  /** Byte offset in the input (decompressed for a gzip input: `decompressed`). */
  offset: number;
  decompressed: boolean;
  /** Total block length in bytes. */
  length: number;
  /** The outputs it is missing from ("OUT", "the annotated capture"); empty when none was written. */
  leftOutOf: string[];
}
