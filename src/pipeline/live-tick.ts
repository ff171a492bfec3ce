/**
 * Drives InspectionPipeline.tick() from a wall-clock timer for live capture, so connections
 * expire and held packets leave even when no packet arrives. Live records are stamped with the
 * wall clock on arrival (capture/live-clock.ts), so "now" is the same clock. The timer does not
 * keep the process alive; an error in a tick (e.g. an output that failed) goes to `onError`
 * instead of escaping from the timer.
 */
import type { InspectionPipeline } from './inspection-pipeline.js';

export const LIVE_TICK_MS = 1000;

/** Starts ticking; returns the function that stops it. */
export function startLiveTicker(pipeline: Pick<InspectionPipeline, 'tick'>, onError: (err: unknown) => void, everyMs = LIVE_TICK_MS): () => void {
  const timer = setInterval(() => {
    const ms = Date.now();
    try {
      pipeline.tick(Math.floor(ms / 1000), (ms % 1000) * 1_000_000);
    } catch (err) {
      onError(err);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
