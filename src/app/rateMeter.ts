// Tokens per second and time left, from (time, tokens) samples at each readback. An exponential average
// of the rate over readbacks keeps the number calm while still following a change in speed.

export class RateMeter {
  private last: { t: number; tokens: number } | null = null;
  private rate: number | null = null;

  constructor(private readonly weight = 0.7) {}

  /** Forget the history (after a pause the wall time between samples does not count). */
  restart(): void {
    this.last = null;
  }

  /** Record a sample (ms, tokens seen so far); returns the smoothed tokens/s or null. */
  sample(tMs: number, tokens: number): number | null {
    if (this.last && tMs > this.last.t && tokens > this.last.tokens) {
      const r = ((tokens - this.last.tokens) * 1000) / (tMs - this.last.t);
      this.rate = this.rate === null ? r : this.weight * this.rate + (1 - this.weight) * r;
    }
    this.last = { t: tMs, tokens };
    return this.rate;
  }

  get tokensPerSec(): number | null {
    return this.rate;
  }
}

/** Seconds left to reach `total` tokens at `rate` tokens/s, or null when unknown. */
export function etaSeconds(seen: number, total: number, rate: number | null): number | null {
  if (rate === null || !(rate > 0)) return null;
  return Math.max(0, (total - seen) / rate);
}
