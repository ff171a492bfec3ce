/**
 * SIGINT/SIGTERM for the commands that read a capture (replay, live, info, flows): the first
 * signal asks the reading to stop after the current record; the command then reports what it has
 * and exits 130 (EXIT.INTERRUPTED). Only the first signal is caught: a second one ends the process
 * at once (Node's default), for a user who does not want to wait.
 */

export class Interrupt {
  private caught = false;
  private resolveSignalled: () => void = () => undefined;
  /** Resolves at the first SIGINT or SIGTERM (never rejects). */
  readonly signalled: Promise<void>;
  private readonly handler: () => void;

  /** Starts listening; `onSignal` runs once, at the first signal (typically `source.stop()`). */
  constructor(onSignal: () => void = () => undefined) {
    this.signalled = new Promise<void>((resolve) => (this.resolveSignalled = resolve));
    this.handler = () => {
      if (this.caught) return;
      this.caught = true;
      // One signal is enough: the next one gets Node's default (immediate exit).
      this.dispose();
      onSignal();
      this.resolveSignalled();
    };
    process.once('SIGINT', this.handler);
    process.once('SIGTERM', this.handler);
  }

  /** True once a signal arrived. */
  get interrupted(): boolean {
    return this.caught;
  }

  /** Stops listening (call in a finally). */
  dispose(): void {
    process.removeListener('SIGINT', this.handler);
    process.removeListener('SIGTERM', this.handler);
  }
}

/**
 * Waits for `reading` (a CaptureSource.run) to settle, or for the interrupt, whichever comes
 * first. A reader sees stop() only when its next chunk arrives, and a pipe that stays open and
 * silent (tcpdump on a quiet interface, a feeder that paused) would hold the command forever: so
 * the signal wins the race, and the caller reports from what its record callback has gathered
 * (consistent: JavaScript runs the callback and this code one after the other). `ended` is false
 * when the reading was abandoned that way; see endProcessIfInputBlocked.
 */
export async function untilEndOrInterrupt<T>(reading: Promise<T>, interrupt: Interrupt): Promise<{ ended: true; value: T } | { ended: false }> {
  const outcome = await Promise.race([reading.then((value) => ({ ended: true as const, value })), interrupt.signalled.then(() => ({ ended: false as const }))]);
  // An abandoned reading may still settle (the pipe delivers or closes later): nobody listens then.
  if (!outcome.ended) reading.catch(() => undefined);
  return outcome;
}

/**
 * After an interrupted command has written its report: a read still blocked on a silent pipe is
 * a request libuv keeps waiting for, so the process would not end by itself. End it once the
 * command's action has returned and set process.exitCode (the next turn of the event loop; our
 * outputs are written synchronously, so nothing is lost).
 */
export function endProcessIfInputBlocked(ended: boolean): void {
  if (!ended) setImmediate(() => process.exit());
}
