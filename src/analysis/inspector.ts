// The feature inspector's numbers (issue 6), from one feature's activations over the held-out tokens:
// top-activating contexts (a window of `before` tokens before and `after` after each of the strongest
// activations; one already visible in a context taken is skipped: a run of activations is one
// context), a histogram of the non-zero activations, density, and the decoder rows nearest to the
// feature's (src/analysis/featureDashboard.ts builds the full dashboard on top of these). Pure: the app layer supplies values and token text.
import { cosRow, normalizeRows } from './cosine';

export interface FeatureValues {
  /** [N] activation of the feature per held-out token (row n = s·T + t over all held-out sequences). */
  values: Float32Array;
  /** [N] 0 for padding. */
  valid: Uint8Array;
  T: number;
}

export interface ContextRef {
  value: number;
  sequence: number;
  position: number;
  /** Window [from, to) of positions in that sequence. */
  from: number;
  to: number;
}

export interface FeatureSummary {
  density: number;
  meanActive: number;
  max: number;
  /** Sequence holding the strongest activation (0 when the feature never fires). */
  strongestSequence: number;
  contexts: ContextRef[];
  histogram: { edges: number[]; counts: number[] };
}

export function summarizeFeature(
  fv: FeatureValues,
  opts: { contexts?: number; window?: number; before?: number; after?: number; bins?: number } = {},
): FeatureSummary {
  const { values, valid, T } = fv;
  const nCtx = opts.contexts ?? 8,
    before = opts.before ?? opts.window ?? 8,
    after = opts.after ?? opts.window ?? 8,
    bins = opts.bins ?? 30;
  let fired = 0,
    tokens = 0,
    sum = 0,
    max = 0,
    argmax = -1;
  const active: number[] = [];
  for (let n = 0; n < values.length; n++) {
    if (!valid[n]) continue;
    tokens++;
    const v = values[n];
    if (v > 0) {
      fired++;
      sum += v;
      active.push(n);
      if (v > max) {
        max = v;
        argmax = n;
      }
    }
  }
  active.sort((a, b) => values[b] - values[a] || a - b);
  const contexts: ContextRef[] = [];
  for (const n of active) {
    if (contexts.length >= nCtx) break;
    const s = Math.floor(n / T),
      t = n % T;
    // Non-maximum suppression: skip an activation already visible in a context taken.
    if (contexts.some((c) => c.sequence === s && t >= c.from && t < c.to)) continue;
    contexts.push({
      value: values[n],
      sequence: s,
      position: t,
      from: Math.max(0, t - before),
      to: Math.min(T, t + after + 1),
    });
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => (max * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  if (max > 0) for (const n of active) counts[Math.min(bins - 1, Math.floor((values[n] / max) * bins))]++;
  return {
    density: tokens ? fired / tokens : 0,
    meanActive: fired ? sum / fired : 0,
    max,
    strongestSequence: argmax >= 0 ? Math.floor(argmax / T) : 0,
    contexts,
    histogram: { edges, counts },
  };
}

/** The `count` decoder rows with the highest cosine to row `feature` (itself excluded). */
export function nearestByDecoder(
  W_dec: Float32Array,
  m: number,
  d: number,
  feature: number,
  count = 8,
): { feature: number; cos: number }[] {
  const U = normalizeRows(W_dec, m, d);
  const row = new Float64Array(m);
  cosRow(U, feature, U, m, d, row);
  const idx = Array.from({ length: m }, (_, i) => i).filter((i) => i !== feature);
  idx.sort((a, b) => row[b] - row[a] || a - b);
  return idx.slice(0, count).map((i) => ({ feature: i, cos: row[i] }));
}
