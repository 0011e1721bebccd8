// Power spectrum of a real trace, |rfft(x)_k|² for k = 0..⌊L/2⌋ (the bins torch.fft.rfft returns), for
// the high/low frequency energy ratio of SPEC §11. Any length L: an iterative radix-2 FFT when L is a
// power of two, Bluestein's chirp-z transform (a length-L DFT as a convolution of power-of-two length)
// otherwise, a direct DFT for short traces. float64 throughout; plans are cached per length (a held-out
// set has few distinct segment lengths).
//   X_k = Σ_{t=0}^{L−1} x_t·e^{−2πi·k·t/L}

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();

/** cos and sin of −2π·j/n for j < n/2 (the forward FFT's twiddles), cached per length. */
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    const h = Math.max(1, n >> 1);
    t = { cos: new Float64Array(h), sin: new Float64Array(h) };
    for (let j = 0; j < h; j++) {
      t.cos[j] = Math.cos((-2 * Math.PI * j) / n);
      t.sin[j] = Math.sin((-2 * Math.PI * j) / n);
    }
    if (twiddleCache.size > 64) twiddleCache.clear();
    twiddleCache.set(n, t);
  }
  return t;
}

/** In-place radix-2 FFT of (re, im), length a power of two; sign −1 forward, +1 inverse (unscaled). */
function fftPow2(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const { cos, sin } = twiddles(n);
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const stride = n / len;
    for (let k = 0; k < half; k++) {
      // e^{sign·2πi·k/len} = table entry k·(n/len) of e^{−2πi·j/n} (conjugated for the inverse).
      const wr = cos[k * stride],
        wi = sign < 0 ? sin[k * stride] : -sin[k * stride];
      for (let s = 0; s < n; s += len) {
        const a = s + k,
          b = a + half;
        const xr = re[b] * wr - im[b] * wi,
          xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

interface Bluestein {
  M: number;
  /** chirp w_t = e^{−πi t²/L}, t < L */
  cr: Float64Array;
  ci: Float64Array;
  /** FFT of the conjugate chirp laid out for circular convolution, length M. */
  br: Float64Array;
  bi: Float64Array;
}

const plans = new Map<number, Bluestein>();

function bluesteinPlan(L: number): Bluestein {
  const cached = plans.get(L);
  if (cached) return cached;
  let M = 1;
  while (M < 2 * L - 1) M <<= 1;
  const cr = new Float64Array(L),
    ci = new Float64Array(L);
  for (let t = 0; t < L; t++) {
    // t² mod 2L keeps the angle small (exact for integer t).
    const a = (Math.PI * ((t * t) % (2 * L))) / L;
    cr[t] = Math.cos(a);
    ci[t] = -Math.sin(a);
  }
  const br = new Float64Array(M),
    bi = new Float64Array(M);
  for (let t = 0; t < L; t++) {
    br[t] = cr[t];
    bi[t] = -ci[t];
    if (t > 0) {
      br[M - t] = cr[t];
      bi[M - t] = -ci[t];
    }
  }
  fftPow2(br, bi, -1);
  const plan = { M, cr, ci, br, bi };
  if (plans.size > 64) plans.clear();
  plans.set(L, plan);
  return plan;
}

/** [⌊L/2⌋ + 1] power |X_k|² of the real trace x (length L ≥ 1). */
export function rfftPower(x: ArrayLike<number>): Float64Array {
  const L = x.length;
  const K = Math.floor(L / 2) + 1;
  const out = new Float64Array(K);
  if (L === 0) return new Float64Array(0);
  if (L <= 16) {
    for (let k = 0; k < K; k++) {
      let r = 0,
        i = 0;
      for (let t = 0; t < L; t++) {
        const a = (-2 * Math.PI * ((k * t) % L)) / L;
        r += x[t] * Math.cos(a);
        i += x[t] * Math.sin(a);
      }
      out[k] = r * r + i * i;
    }
    return out;
  }
  if ((L & (L - 1)) === 0) {
    const re = Float64Array.from(x),
      im = new Float64Array(L);
    fftPow2(re, im, -1);
    for (let k = 0; k < K; k++) out[k] = re[k] * re[k] + im[k] * im[k];
    return out;
  }
  // Bluestein: X_k = w_k · Σ_t (x_t w_t) · conj(w_{k−t}).
  const p = bluesteinPlan(L);
  const ar = new Float64Array(p.M),
    ai = new Float64Array(p.M);
  for (let t = 0; t < L; t++) {
    ar[t] = x[t] * p.cr[t];
    ai[t] = x[t] * p.ci[t];
  }
  fftPow2(ar, ai, -1);
  for (let k = 0; k < p.M; k++) {
    const r = ar[k] * p.br[k] - ai[k] * p.bi[k];
    ai[k] = ar[k] * p.bi[k] + ai[k] * p.br[k];
    ar[k] = r;
  }
  fftPow2(ar, ai, 1);
  // |w_k| = 1, so the power does not need the final chirp; 1/M undoes the unscaled inverse.
  const s = 1 / p.M;
  for (let k = 0; k < K; k++) out[k] = (ar[k] * ar[k] + ai[k] * ai[k]) * s * s;
  return out;
}

/**
 * High- to low-frequency energy of a trace as T-SAE's fft_smoothness computes it
 * (AI4LIFE-GROUP/temporal-saes, dictionary_learning/dictionary_learning/evaluation.py, fft_smoothness):
 *   power = |rfft(f)|², cutoff_idx = int(cutoff_ratio · len(power)),
 *   ratio = Σ power[cutoff_idx:] / (Σ power[:cutoff_idx] + 1e-10)
 * The DC bin is in the low part, so a constant-on feature scores 0.
 */
export function hfLfRatio(trace: ArrayLike<number>, cutoffRatio = 0.5): number {
  const p = rfftPower(trace);
  const cut = Math.floor(cutoffRatio * p.length);
  let lo = 0,
    hi = 0;
  for (let k = 0; k < p.length; k++) {
    if (k < cut) lo += p[k];
    else hi += p[k];
  }
  return hi / (lo + 1e-10);
}
