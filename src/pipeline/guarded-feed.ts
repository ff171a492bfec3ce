/**
 * Feeding a pipeline from a capture source, shared by file replay and live capture: an output
 * failure (closed pipe, full disk) is kept rather than thrown through the reader, stops the
 * source, and nothing after it is processed, so every output keeps only whole records.
 */
import { OutputError } from '../errors.js';
import type { CaptureRecord } from '../capture/types.js';
import type { InspectionPipeline } from './inspection-pipeline.js';
import type { ReplaySummary } from './types.js';

export class GuardedFeed {
  outputError: OutputError | null = null;

  constructor(
    private readonly pipeline: InspectionPipeline,
    private readonly source: { stop(): void },
  ) {}

  /** Processes one record; false when an output has failed (now or before) and the record was not. */
  process(rec: CaptureRecord): boolean {
    if (this.outputError !== null) return false;
    try {
      this.pipeline.process(rec);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** Keeps the first output failure and stops the source; anything else is rethrown. */
  fail(err: unknown): void {
    if (!(err instanceof OutputError)) throw err;
    this.outputError ??= err;
    this.source.stop();
  }

  /** The pipeline's end-of-input work, unless an output already failed (then null). */
  finish(): ReplaySummary | null {
    if (this.outputError !== null) return null;
    try {
      return this.pipeline.finish();
    } catch (err) {
      this.fail(err);
      return null;
    }
  }
}
