// Confidence intervals over seeds: a metric measured once per seed (n runs of one method) is
// summarised as mean ± half-width of a two-sided Student t interval,
//   mean ± t_{1−(1−level)/2, n−1} · s / √n,   s = sample standard deviation (n − 1 in the denominator),
// which assumes the per-seed values are independent draws from a normal distribution (few seeds: the
// t quantile is wide on purpose; with n = 1 there is no interval). The quantile is exact: the inverse of
// the t CDF through the regularized incomplete beta function (Numerical Recipes §6.4 continued
// fraction) and bisection, not a table.

export interface SeedInterval {
  /** Runs (seeds) with a finite value. */
  n: number;
  mean: number;
  /** Sample standard deviation (NaN for n < 2). */
  sd: number;
  /** Half-width of the interval (NaN for n < 2). */
  half: number;
  lo: number;
  hi: number;
  level: number;
  method: 'student-t';
}

function lnGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9), |error| < 1e-13 for z > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < 9; i++) x += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1,
    d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const bt = Math.exp(lbt);
  return x < (a + 1) / (a + b + 2) ? (bt * betaCf(a, b, x)) / a : 1 - (bt * betaCf(b, a, 1 - x)) / b;
}

/** CDF of Student's t with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * betaInc(df / 2, 0.5, x);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (0 < p < 1), by bisection on the CDF to 1e-12. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  let lo = -1,
    hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean and t interval of one metric over seeds; non-finite values (a run without the metric) are left out. */
export function seedInterval(values: ArrayLike<number>, level = 0.95): SeedInterval {
  const v = Array.from(values).filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((s, x) => s + x, 0) / n : NaN;
  if (n < 2) return { n, mean, sd: NaN, half: NaN, lo: NaN, hi: NaN, level, method: 'student-t' };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, half, lo: mean - half, hi: mean + half, level, method: 'student-t' };
}

/**
 * Welch's t test of two methods' per-seed values (unequal variances): the difference of means, its
 * interval at `level` and the two-sided p-value. Used to say whether a difference is within the noise.
 */
export function welch(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  level = 0.95,
): { diff: number; half: number; p: number; df: number } {
  const A = seedInterval(a, level),
    B = seedInterval(b, level);
  const diff = A.mean - B.mean;
  if (A.n < 2 || B.n < 2) return { diff, half: NaN, p: NaN, df: NaN };
  const va = (A.sd * A.sd) / A.n,
    vb = (B.sd * B.sd) / B.n;
  const se = Math.sqrt(va + vb);
  if (!(se > 0)) return { diff, half: 0, p: diff === 0 ? 1 : 0, df: A.n + B.n - 2 };
  const df = (va + vb) ** 2 / ((va * va) / (A.n - 1) + (vb * vb) / (B.n - 1));
  const t = diff / se;
  const p = 2 * (1 - studentTCdf(Math.abs(t), df));
  return { diff, half: studentTQuantile(1 - (1 - level) / 2, df) * se, p, df };
}
