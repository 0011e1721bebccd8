// CPU twin of the GPU evaluation reductions (shaders/eval_*.wgsl, recorded by src/sae/gpu/evalPasses.ts):
// the per-batch sums of EvalSums (src/sae/trainerApi.ts) computed in float64 straight from a chunk's x,
// x̂ and f. The kernel parity tests compare the GPU sums with these; the accumulators' addSums methods
// turn either into the SPEC §6 metrics exactly as their add(chunk) does.
import type { EvalSums } from '../sae/trainerApi';
import { isValidPair, type EvalChunk } from './chunk';
import { positionBins } from './sparsity';
import { autocorrBins } from './temporal';

/** Floats per token in EvalSums.rowRecon and rowFeat. */
export const ROW_RECON = 4;
export const ROW_FEAT = 6;

/** Every sum of one batch, as eval_recon / eval_rows / eval_xstats / eval_features compute them. */
export function evalSumsFromChunk(c: EvalChunk): EvalSums {
  const { S, T, d, m, x, xhat, f, valid } = c;
  const rows = S * T;
  const P = positionBins(m, T);
  const Q = autocorrBins(m, T);
  const rowRecon = new Float64Array(rows * ROW_RECON);
  const rowFeat = new Float64Array(rows * ROW_FEAT);
  for (let n = 0; n < rows; n++) {
    let err = 0,
      xx = 0,
      hh = 0,
      hx = 0;
    for (let j = 0; j < d; j++) {
      const xv = x[n * d + j],
        hv = xhat[n * d + j];
      err += (xv - hv) ** 2;
      xx += xv * xv;
      hh += hv * hv;
      hx += hv * xv;
    }
    rowRecon.set([err, xx, hh, hx], n * ROW_RECON);
    const hasPrev = n % T !== 0;
    const r = new Float64Array(ROW_FEAT);
    for (let i = 0; i < m; i++) {
      const v = f[n * m + i];
      r[0] += v > 0 ? 1 : 0;
      r[1] += Math.abs(v);
      if (hasPrev) {
        const u = f[(n - 1) * m + i];
        r[2] += Math.abs(v - u);
        r[3] += Math.abs(v);
        r[4] += u > 0 && v > 0 ? 1 : 0;
        r[5] += u > 0 || v > 0 ? 1 : 0;
      }
    }
    rowFeat.set(r, n * ROW_FEAT);
  }
  // Per dimension: Σx and Σ(x − mean)² over valid rows (two passes, as eval_xstats.wgsl).
  const xStats = new Float64Array(d * 2);
  let nb = 0;
  for (let n = 0; n < rows; n++) if (valid[n]) nb++;
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let n = 0; n < rows; n++) if (valid[n]) s += x[n * d + j];
    const mean = nb > 0 ? s / nb : 0;
    let m2 = 0;
    for (let n = 0; n < rows; n++) if (valid[n]) m2 += (x[n * d + j] - mean) ** 2;
    xStats[2 * j] = s;
    xStats[2 * j + 1] = m2;
  }
  // Per feature, walking the rows in sequence order (eval_features.wgsl).
  const featStats = new Float64Array(m * 2);
  const fireByPos = new Uint32Array(m * P);
  const runs = new Uint32Array(2 * T);
  const autocorr = new Float64Array(5 * Q * m);
  const binOf = (t: number) => (T <= 1 ? 0 : Math.min(Q - 1, Math.floor(((t - 1) * Q) / (T - 1))));
  for (let i = 0; i < m; i++) {
    let open = false,
      runStart = 0,
      runLen = 0;
    const close = () => {
      runs[runStart]++;
      runs[T + runStart] += runLen;
    };
    for (let n = 0; n < rows; n++) {
      if (!valid[n]) continue;
      const t = n % T;
      const v = f[n * m + i];
      const on = v > 0;
      featStats[2 * i] += v;
      featStats[2 * i + 1] += v * v;
      if (on) fireByPos[i * P + Math.floor((t * P) / T)]++;
      if (!isValidPair(c, n, t)) {
        if (open) close();
        open = on;
        runStart = t;
        runLen = 1;
        continue;
      }
      const u = f[(n - 1) * m + i];
      const uOn = u > 0;
      if (uOn && on) runLen++;
      else if (on) {
        open = true;
        runStart = t;
        runLen = 1;
      } else if (uOn) {
        close();
        open = false;
      }
      const q = (k: number) => (k * Q + binOf(t)) * m + i;
      autocorr[q(0)] += u;
      autocorr[q(1)] += v;
      autocorr[q(2)] += u * u;
      autocorr[q(3)] += v * v;
      autocorr[q(4)] += u * v;
    }
    if (open) close();
  }
  return { rows, T, rowRecon, rowFeat, xStats, featStats, fireByPos, P, runs, autocorr, Q };
}

/** CPU twin of eval_gather.wgsl: [K·rows] activations of the features `ids`, feature-major. */
export function gatherTwin(c: Pick<EvalChunk, 'S' | 'T' | 'm' | 'f'>, ids: Int32Array): Float32Array {
  const rows = c.S * c.T;
  const out = new Float32Array(ids.length * rows);
  for (let k = 0; k < ids.length; k++)
    for (let n = 0; n < rows; n++) out[k * rows + n] = c.f[n * c.m + ids[k]];
  return out;
}
