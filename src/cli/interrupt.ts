/**
 * SIGINT/SIGTERM for the commands that read a capture (replay, live, info, flows): the first
 * signal asks the reading to stop after the current record; the command then reports what it has
 * and exits 130 (EXIT.INTERRUPTED). Only the first signal is caught: a second one ends the process
 * at once (Node's default), for a user who does not want to wait.
 */
import fs from 'node:fs';

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
 * After an interrupted command has written its report: a read still blocked on a silent pipe
 * would keep the process alive — and even process.exit() waits for it, because libuv joins its
 * thread-pool threads at exit and a FIFO is read on one of them. So when the input (`-` = standard
 * input, or a named FIFO) is a pipe, one byte is written into it: the blocked read, ours, takes it
 * and returns (the byte goes nowhere: nothing reads this input after us). Then the process ends,
 * once the command's action has returned and set process.exitCode. Our outputs are written
 * synchronously, so nothing is lost.
 */
export function endProcessIfInputBlocked(ended: boolean, input: string): void {
  if (ended) return;
  setImmediate(() => {
    wakeBlockedPipeRead(input === '-' ? '/proc/self/fd/0' : input);
    process.exit();
  });
}

function wakeBlockedPipeRead(path: string): void {
  let fd: number | null = null;
  try {
    if (!fs.statSync(path).isFIFO()) return;
    // Non-blocking: never wait here (a full pipe means the read is not blocked anyway).
    fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, Buffer.alloc(1));
  } catch {
    // No /proc, no pipe, no reader left, pipe full: nothing to wake.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
