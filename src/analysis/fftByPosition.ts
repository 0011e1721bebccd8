// T-SAE's high/low frequency energy ratio (fft.ts hfLfRatio, SPEC §11) by position: the ratio of a
// short window of each feature's trace, the W = FFT_WINDOW tokens ending at position t, so the whole-
// trace number gets a form along the sequence as the other metrics have (t = the last token of the
// window, as t is the later token of a pair for the temporal metrics). For a segment (literature.ts) and
// a feature active in the segment:
//
//   r_i[t] = hfLfRatio(f_i[t−W+1 .. t])   for every t with the whole window inside the segment and
//                                          f_i not all zero in it (an inactive window has no spectrum
//                                          to speak of, as only active features count for the whole trace)
//
// and literature.ts averages r_i[t] over the features with a value at t, then over segments. Positions
// closer than W − 1 to a segment's start have no window (NaN); segments shorter than W give nothing.
// With W = 8 the rfft has 5 bins and cutoff_idx = int(0.5·5) = 2: bins 0–1 are low, 2–4 high. The
// power is computed exactly as rfftPower computes it for short traces (the same angles, the same
// summation order), so r_i[t] is bit for bit hfLfRatio of the window.

/** Tokens per window. */
export const FFT_WINDOW = 8;

interface Table {
  W: number;
  K: number;
  cut: number;
  cos: Float64Array;
  sin: Float64Array;
}

const tables = new Map<string, Table>();

function tableFor(W: number, cutoffRatio: number): Table {
  const key = `${W}:${cutoffRatio}`;
  let t = tables.get(key);
  if (!t) {
    const K = Math.floor(W / 2) + 1;
    const cos = new Float64Array(K * W),
      sin = new Float64Array(K * W);
    for (let k = 0; k < K; k++)
      for (let u = 0; u < W; u++) {
        // rfftPower's direct DFT: a = −2π·((k·t) mod L)/L.
        const a = (-2 * Math.PI * ((k * u) % W)) / W;
        cos[k * W + u] = Math.cos(a);
        sin[k * W + u] = Math.sin(a);
      }
    t = { W, K, cut: Math.floor(cutoffRatio * K), cos, sin };
    tables.set(key, t);
  }
  return t;
}

/**
 * r[t] for t = 0..L−1 of one trace: hfLfRatio of trace[t−W+1..t], NaN where the window does not fit
 * or the trace is all zero in it. W ≤ 16 (the short-trace DFT of rfftPower).
 */
export function windowedHfLfRatio(
  trace: ArrayLike<number>,
  W = FFT_WINDOW,
  cutoffRatio = 0.5,
  out = new Float64Array(trace.length),
): Float64Array {
  if (!Number.isInteger(W) || W < 2 || W > 16)
    throw new Error(`FFT window must be an integer in 2..16 (got ${W})`);
  const L = trace.length;
  const tb = tableFor(W, cutoffRatio);
  out.fill(NaN, 0, L);
  // Non-zeros in the window, kept as it slides.
  let nz = 0;
  for (let t = 0; t < L; t++) {
    if (trace[t] !== 0) nz++;
    if (t >= W && trace[t - W] !== 0) nz--;
    if (t < W - 1 || nz === 0) continue;
    const s = t - W + 1;
    let lo = 0,
      hi = 0;
    for (let k = 0; k < tb.K; k++) {
      let r = 0,
        i = 0;
      const o = k * W;
      for (let u = 0; u < W; u++) {
        const v = trace[s + u];
        r += v * tb.cos[o + u];
        i += v * tb.sin[o + u];
      }
      const p = r * r + i * i;
      if (k < tb.cut) lo += p;
      else hi += p;
    }
    out[t] = hi / (lo + 1e-10);
  }
  return out;
}
