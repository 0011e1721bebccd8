// Ground-truth recovery on synthetic data (SPEC §6): for every true feature direction, the decoder row
// with the highest cosine. mmcs = mean of those best cosines ("mean max cosine similarity", Sharkey et
// al. 2022); recovered = share of true features whose best cosine exceeds 0.9. Signed cosine: SAE
// activations are non-negative, so a decoder row pointing the opposite way does not represent the feature.
import { cosRow, normalizeRows } from './cosine';

export const RECOVERED_THRESHOLD = 0.9;

export interface TrueFeatureMatch {
  /** [F] index of the best decoder row for each true feature. */
  index: Int32Array;
  /** [F] its cosine. */
  cos: Float64Array;
}

/** trueDict [F, d], W_dec [m, d], both row-major. */
export function matchTrueFeatures(
  trueDict: Float32Array,
  F: number,
  W_dec: Float32Array,
  m: number,
  d: number,
): TrueFeatureMatch {
  const U = normalizeRows(trueDict, F, d);
  const W = normalizeRows(W_dec, m, d);
  const index = new Int32Array(F);
  const cos = new Float64Array(F);
  const row = new Float64Array(m);
  for (let f = 0; f < F; f++) {
    cosRow(U, f, W, m, d, row);
    let best = -Infinity,
      bi = -1;
    for (let k = 0; k < m; k++)
      if (row[k] > best) {
        best = row[k];
        bi = k;
      }
    index[f] = bi;
    cos[f] = best;
  }
  return { index, cos };
}

export function mmcs(match: TrueFeatureMatch): number {
  let s = 0;
  for (let i = 0; i < match.cos.length; i++) s += match.cos[i];
  return match.cos.length ? s / match.cos.length : NaN;
}

export function recovered(match: TrueFeatureMatch, threshold = RECOVERED_THRESHOLD): number {
  let c = 0;
  for (let i = 0; i < match.cos.length; i++) if (match.cos[i] > threshold) c++;
  return match.cos.length ? c / match.cos.length : NaN;
}

/** For each decoder row, the true feature it is closest to (for the inspector): [m] index and cosine. */
export function nearestTrueFeature(
  trueDict: Float32Array,
  F: number,
  W_dec: Float32Array,
  m: number,
  d: number,
): TrueFeatureMatch {
  return matchTrueFeatures(W_dec, m, trueDict, F, d);
}
