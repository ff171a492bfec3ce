/**
 * Replays a capture through the inspection pipeline entirely in memory: verdicts collected,
 * OUT and the annotated capture reduced to record digests (and the annotation comments).
 * Used by regress (compare with expectations) and diagnose (verdicts, and verifying fixes).
 */
import { openCapture } from '../capture/open.js';
import type { EngineOptions } from '../inspect/options.js';
import { InspectionPipeline } from '../pipeline/inspection-pipeline.js';
import type { PipelineProfile, ReplaySummary } from '../pipeline/types.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { VerdictRecord } from '../output/verdicts.js';
import type { ChecksumMode } from '../decode/checksum.js';
import { DigestWriter } from './digest-writer.js';

export interface MemoryReplayOptions {
  engineOptions?: EngineOptions;
  profile?: PipelineProfile;
  checksumMode?: ChecksumMode;
  /** ASA interface names (default outside / inside), as replay's --client-interface / --server-interface. */
  clientInterface?: string;
  serverInterface?: string;
  /** Hold-back bound in packets, as replay's --max-held. */
  maxHeldPackets?: number;
  /** Also digest OUT and the annotated capture (regress); diagnose only needs verdicts. */
  digests?: boolean;
  /** With digests: also list the first this-many records one by one (DigestWriter.records). */
  recordLines?: number;
  /** Keep only the verdicts this accepts (diagnose drops per-packet bookkeeping to stay bounded). */
  keep?: (r: VerdictRecord) => boolean;
}

export interface MemoryReplay {
  verdicts: VerdictRecord[];
  summary: ReplaySummary;
  outDigest: string;
  outRecords: number;
  annotatedDigest: string;
  annotatedRecords: number;
  annotations: string[];
  /** With recordLines: per-record lines of OUT and of the annotated capture (DigestWriter.records). */
  outRecordLines: string[];
  annotatedRecordLines: string[];
}

export async function replayInMemory(capture: string, policy: CompiledPolicy, opts: MemoryReplayOptions = {}): Promise<MemoryReplay> {
  const src = await openCapture(capture);
  const out = opts.digests ? new DigestWriter(false, opts.recordLines ?? 0) : null;
  const ann = opts.digests ? new DigestWriter(true, opts.recordLines ?? 0) : null;
  const verdicts: VerdictRecord[] = [];
  const pipeline = new InspectionPipeline({
    policy,
    ...(opts.engineOptions ? { engineOptions: opts.engineOptions } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.checksumMode ? { checksumMode: opts.checksumMode } : {}),
    ...(opts.clientInterface !== undefined ? { clientInterface: opts.clientInterface } : {}),
    ...(opts.serverInterface !== undefined ? { serverInterface: opts.serverInterface } : {}),
    ...(opts.maxHeldPackets !== undefined ? { maxHeldPackets: opts.maxHeldPackets } : {}),
    format: src.format,
    outputs: {
      packets: out,
      annotate: ann,
      // records may be reused by the producer: keep a copy
      verdicts: (r) => {
        if (!opts.keep || opts.keep(r)) verdicts.push({ ...r });
      },
      syslog: null,
    },
  });
  await src.run(
    (rec) => pipeline.process(rec),
    (iface) => pipeline.addInterface(iface),
  );
  const summary = pipeline.finish();
  return {
    verdicts,
    summary,
    outDigest: out ? out.digest() : '',
    outRecords: out ? out.count : 0,
    annotatedDigest: ann ? ann.digest() : '',
    annotatedRecords: ann ? ann.count : 0,
    annotations: ann ? ann.comments : [],
    outRecordLines: out ? out.records : [],
    annotatedRecordLines: ann ? ann.records : [],
  };
}

/** The counts kept in expected.summary.json (the service-policy text is compared via verdicts). */
export function summaryCounts(s: ReplaySummary): Record<string, unknown> {
  return { connections: s.connections, packets: s.packets, edits: s.edits, verdicts: s.verdicts, syslogLines: s.syslogLines };
}
