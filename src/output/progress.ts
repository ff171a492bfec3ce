/**
 * A one-line progress bar on stderr for long replays, shown only when stderr is a terminal.
 * Redrawn at most every 200 ms of wall time (display only: nothing in the replay depends on it).
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? (stream.isTTY === true && total > 0);
  }

  update(done: number, packets: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.draw(done, packets);
  }

  render(done: number, packets: number): string {
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 45));
    const full = Math.round(frac * width);
    const pct = (frac * 100).toFixed(1).padStart(5);
    const mb = (done / 1048576).toFixed(1);
    return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${pct}% ${mb} MiB ${packets} packets`;
  }

  private draw(done: number, packets: number): void {
    this.stream.write(`\r${this.render(done, packets)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the bar so the summary prints on a clean line. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
