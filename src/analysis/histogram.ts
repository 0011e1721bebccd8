// The feature-density histogram of SPEC §6: log10(density + 1e-10), the quantity SAELens saves as
// `sparsity`. Dead features land at −10; the bins span [−10, 0] so runs are comparable bin for bin.

export const LOG_DENSITY_EPS = 1e-10;

export interface DensityHistogram {
  /** Bin edges, bins + 1 values from lo to hi. */
  edges: number[];
  counts: number[];
  /** log10 of the dense threshold (a marker in the view). */
  denseAt: number;
  dead: number;
  dense: number;
}

export function logDensity(density: ArrayLike<number>): Float32Array {
  const r = new Float32Array(density.length);
  for (let i = 0; i < density.length; i++) r[i] = Math.log10(density[i] + LOG_DENSITY_EPS);
  return r;
}

export function densityHistogram(
  density: ArrayLike<number>,
  opts: { bins?: number; lo?: number; hi?: number; denseThreshold?: number } = {},
): DensityHistogram {
  const bins = opts.bins ?? 50,
    lo = opts.lo ?? -10,
    hi = opts.hi ?? 0;
  const denseThreshold = opts.denseThreshold ?? 0.1;
  const counts = new Array<number>(bins).fill(0);
  let dead = 0,
    dense = 0;
  for (let i = 0; i < density.length; i++) {
    const p = density[i];
    if (p === 0) dead++;
    else if (p > denseThreshold) dense++;
    const v = Math.log10(p + LOG_DENSITY_EPS);
    // The top edge belongs to the last bin (density 1 → log10 ≈ 0).
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)));
    counts[b]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  return { edges, counts, denseAt: Math.log10(denseThreshold), dead, dense };
}
