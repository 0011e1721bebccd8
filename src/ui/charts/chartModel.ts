// Data in → SVG description out: scales, paths and ticks for a line chart, computed by a pure function
// so it can be tested without a DOM. LineChart.tsx only turns this into elements and handles hover.
import { bisector, extent, scaleLinear, scaleLog, line, type ScaleContinuousNumeric } from 'd3';

export interface Series {
  id: string;
  label: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** SVG stroke-dasharray, e.g. '4 3' for reference lines. */
  dash?: string;
  width?: number;
}

export interface ChartOptions {
  width: number;
  height: number;
  margin?: { top: number; right: number; bottom: number; left: number };
  logY?: boolean;
  /** TensorBoard-style smoothing weight in [0, 1): 0 draws the raw points. */
  smoothing?: number;
  /** Fixed y-domain (e.g. [0, 1] for shares); otherwise from the data. */
  yDomain?: [number, number];
  /** Shared x-domain, so charts stacked or side by side line up step for step; otherwise from the data. */
  xDomain?: [number, number];
  /** Mark every point (few points, e.g. a sweep over 3–6 values); otherwise only a lone point is marked. */
  markPoints?: boolean;
}

export interface ChartPath {
  id: string;
  color: string;
  dash?: string;
  width: number;
  /** Path of the smoothed values (the raw ones when smoothing is 0). */
  d: string;
  /** Faint path of the raw values, drawn under the smoothed one when smoothing > 0. */
  rawD: string | null;
  /** Marker positions for a series with a single drawable point (a path of one point is invisible). */
  dots: { x: number; y: number }[];
}

export interface Tick {
  value: number;
  pos: number;
  label: string;
}

export interface ChartModel {
  innerWidth: number;
  innerHeight: number;
  margin: { top: number; right: number; bottom: number; left: number };
  x: ScaleContinuousNumeric<number, number>;
  y: ScaleContinuousNumeric<number, number>;
  paths: ChartPath[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** Smoothed y per series (same order as the input), for hover read-outs. */
  smoothed: number[][];
  empty: boolean;
}

export const DEFAULT_MARGIN = { top: 8, right: 10, bottom: 20, left: 46 };

/**
 * Exponential moving average with TensorBoard's debiasing: s_i = w·s_{i−1} + (1 − w)·y_i, reported as
 * s_i / (1 − w^{i+1}) so the first points are not pulled toward 0. Non-finite values are passed through
 * and skipped (they do not poison later points).
 */
export function smoothEma(y: ArrayLike<number>, w: number): number[] {
  const out = new Array<number>(y.length);
  if (!(w > 0)) {
    for (let i = 0; i < y.length; i++) out[i] = y[i];
    return out;
  }
  let acc = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    acc = w * acc + (1 - w) * v;
    n++;
    out[i] = acc / (1 - Math.pow(w, n));
  }
  return out;
}

/** Index of the point whose x is nearest to `xv` (x ascending); -1 for an empty series. */
export function nearestIndex(x: ArrayLike<number>, xv: number): number {
  const n = x.length;
  if (n === 0) return -1;
  const arr = Array.from(x);
  const i = bisector((d: number) => d).left(arr, xv);
  if (i <= 0) return 0;
  if (i >= n) return n - 1;
  return xv - arr[i - 1] <= arr[i] - xv ? i - 1 : i;
}

/**
 * Short tick labels with just enough digits to tell neighbouring ticks apart (`step` is the spacing
 * of the ticks; without it 3 significant digits): 1.2k / 3.4M for steps and tokens, 0.035, 3.2e-4.
 */
export function formatTick(v: number, step?: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  // Decimals that write the tick spacing (in `unit`s) exactly: 2.5 → 1, 0.05 → 2, 20 → 0.
  const digitsBelow = (unit: number) => {
    if (!step || !(step > 0)) return null;
    const q = step / unit;
    for (let d = 0; d < 8; d++)
      if (Math.abs(Math.round(q * 10 ** d) - q * 10 ** d) < 1e-6 * 10 ** d) return d;
    return 8;
  };
  if (a >= 1e6) {
    const d = digitsBelow(1e6);
    return `${d === null ? +(v / 1e6).toPrecision(3) : (v / 1e6).toFixed(d)}M`;
  }
  if (a >= 1e4) {
    const d = digitsBelow(1e3);
    return `${d === null ? +(v / 1e3).toPrecision(3) : (v / 1e3).toFixed(d)}k`;
  }
  if (a >= 1e-3) {
    const d = digitsBelow(1);
    return d === null ? String(+v.toPrecision(3)) : v.toFixed(d);
  }
  // Small values: mantissa digits down to the tick spacing.
  const e = Math.floor(Math.log10(a));
  const md = step && step > 0 ? Math.max(0, e - Math.floor(Math.log10(step) + 1e-9)) : 2;
  return v
    .toExponential(Math.min(md, 6))
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e');
}

function tickStep(values: number[]): number | undefined {
  return values.length > 1 ? Math.abs(values[1] - values[0]) : undefined;
}

function smallestGap(values: number[]): number | undefined {
  let gap = Infinity;
  for (let i = 1; i < values.length; i++) gap = Math.min(gap, Math.abs(values[i] - values[i - 1]));
  return Number.isFinite(gap) && gap > 0 ? gap : undefined;
}

/**
 * Which points to draw. Up to two per pixel column everything is drawn; beyond that each column keeps
 * its first, lowest, highest and last point (the M4 rule, Jugel et al. 2014), which draws the same
 * picture as all points at a fraction of the path length, so long runs stay cheap to redraw.
 */
export function drawIndices(
  sx: ArrayLike<number>,
  sy: ArrayLike<number>,
  x: (v: number) => number,
  width: number,
): number[] {
  const n = sx.length;
  if (n <= 2 * width) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  let col = NaN;
  let first = -1;
  let lo = -1;
  let hi = -1;
  let last = -1;
  const emit = () => {
    if (first < 0) return;
    for (const i of [first, lo, hi, last]
      .filter((v, k, a) => v >= 0 && a.indexOf(v) === k)
      .sort((a, b) => a - b))
      out.push(i);
  };
  for (let i = 0; i < n; i++) {
    const c = Math.floor(x(sx[i]));
    if (c !== col) {
      emit();
      col = c;
      first = lo = hi = last = -1;
    }
    if (first < 0) first = i;
    last = i;
    if (Number.isFinite(sy[i])) {
      if (lo < 0 || sy[i] < sy[lo]) lo = i;
      if (hi < 0 || sy[i] > sy[hi]) hi = i;
    } else {
      // A gap must stay a gap: keep the non-finite point so the line breaks there.
      emit();
      out.push(i);
      first = lo = hi = last = -1;
      col = NaN;
    }
  }
  emit();
  return out;
}

export function buildChartModel(series: Series[], opts: ChartOptions): ChartModel {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  const innerWidth = Math.max(10, opts.width - margin.left - margin.right);
  const innerHeight = Math.max(10, opts.height - margin.top - margin.bottom);
  const w = opts.smoothing ?? 0;
  const logY = !!opts.logY;
  const smoothed = series.map((s) => smoothEma(s.y, w));
  const okY = (v: number) => Number.isFinite(v) && (!logY || v > 0);

  const xs: number[] = [];
  const ys: number[] = [];
  series.forEach((s, si) => {
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i])) continue;
      xs.push(s.x[i]);
      // The domain covers raw points (drawn faintly) and the smoothed line.
      if (okY(s.y[i])) ys.push(s.y[i]);
      if (okY(smoothed[si][i])) ys.push(smoothed[si][i]);
    }
  });
  const empty = ys.length === 0;
  let [x0, x1] = opts.xDomain ?? (extent(xs) as [number | undefined, number | undefined]);
  if (x0 === undefined || x1 === undefined) [x0, x1] = [0, 1];
  // Steps are whole numbers: one point sits mid-axis between its neighbours, ticks stay integers.
  const integerX = xs.every((v) => Number.isInteger(v));
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = opts.yDomain ?? (extent(ys) as [number | undefined, number | undefined]);
  if (y0 === undefined || y1 === undefined) [y0, y1] = logY ? [0.1, 1] : [0, 1];
  if (y0 === y1) {
    const pad = y0 === 0 ? 1 : Math.abs(y0) * 0.1;
    y0 = logY ? y0 / 2 : y0 - pad;
    y1 = logY ? y1 * 2 : y1 + pad;
  }

  const x = scaleLinear().domain([x0, x1]).range([0, innerWidth]);
  const y = (logY ? scaleLog() : scaleLinear()).domain([y0, y1]).range([innerHeight, 0]);
  if (!logY && !opts.yDomain) y.nice(Math.max(1, Math.min(6, Math.floor(innerHeight / 28))));

  const pathOf = (sx: ArrayLike<number>, sy: ArrayLike<number>) =>
    line<number>()
      .defined((i) => Number.isFinite(sx[i]) && okY(sy[i]))
      .x((i) => x(sx[i]))
      .y((i) => y(sy[i]))(drawIndices(sx, sy, x, innerWidth)) ?? '';

  const paths: ChartPath[] = series.map((s, si) => {
    const drawable: number[] = [];
    for (let i = 0; i < s.x.length; i++)
      if (Number.isFinite(s.x[i]) && okY(smoothed[si][i])) drawable.push(i);
    return {
      id: s.id,
      color: s.color,
      dash: s.dash,
      width: s.width ?? 1.5,
      d: pathOf(s.x, smoothed[si]),
      // Dashed series are comparisons (other runs): their raw points would only add clutter.
      rawD: w > 0 && !s.dash ? pathOf(s.x, s.y) : null,
      dots:
        drawable.length === 1 || opts.markPoints
          ? drawable.map((i) => ({ x: x(s.x[i]), y: y(smoothed[si][i]) }))
          : [],
    };
  });

  let xTickValues = x.ticks(Math.max(2, Math.min(6, Math.floor(innerWidth / 70))));
  if (integerX) xTickValues = xTickValues.filter((v) => Number.isInteger(v));
  const xStep = tickStep(xTickValues);
  const xTicks = xTickValues.map((v) => ({ value: v, pos: x(v), label: formatTick(v, xStep) }));
  // Roughly one tick per 28 px of height, so short charts do not stack labels.
  const yCount = Math.max(1, Math.min(6, Math.floor(innerHeight / 28)));
  let yTickValues = y.ticks(yCount);
  // A log axis over many decades gives one tick per mantissa: keep the powers of ten.
  if (logY && yTickValues.length > 8)
    yTickValues = yTickValues.filter((v) => Number.isInteger(Math.log10(v)));
  // Within a decade a log axis's ticks are as close as linear ones (a near-constant L0 of 2 and 2.008
  // gave the labels 2, 2, 2, 2.01): label them by their smallest gap. Across decades 3 significant digits
  // tell them apart.
  const within = logY && yTickValues.length > 1 && yTickValues[yTickValues.length - 1] / yTickValues[0] < 10;
  const yStep = !logY ? tickStep(yTickValues) : within ? smallestGap(yTickValues) : undefined;
  const yTicks = yTickValues.map((v) => ({ value: v, pos: y(v), label: formatTick(v, yStep) }));
  return { innerWidth, innerHeight, margin, x, y, paths, xTicks, yTicks, smoothed, empty };
}
