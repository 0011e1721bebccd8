// A terminal progress bar on stderr (stdout stays clean for the final JSON line). On a TTY it redraws
// one line; otherwise (CI logs, pipes) it prints a line every 10 %.

export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
}

export class ProgressBar {
  private lastDecile = -1;
  private readonly t0: number;

  constructor(
    private readonly total: number,
    private readonly out: ProgressSink,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
  }

  /** `done` steps of `total`; `fields` are shown after the bar (e.g. loss, α). */
  update(done: number, startStep: number, fields: Record<string, number>): void {
    const frac = Math.min(1, done / this.total);
    const secs = (this.now() - this.t0) / 1000;
    const rate = secs > 0 ? (done - startStep) / secs : 0;
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    const info = Object.entries(fields)
      .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toPrecision(4) : String(v)}`)
      .join('  ');
    const width = 30;
    const filled = Math.round(frac * width);
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ` +
      `${rate.toFixed(2)} steps/s  eta ${Number.isFinite(eta) ? formatSecs(eta) : '?'}  ${info}`;
    if (this.out.isTTY) this.out.write(`\r${line}\x1b[K`);
    else {
      const decile = Math.floor(frac * 10);
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        this.out.write(line + '\n');
      }
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

export function formatSecs(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
