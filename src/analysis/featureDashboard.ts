// One feature's dashboard (issue 10), from its activations over a set of sequences and their token ids:
// the numbers sae_vis / SAEDashboard, OpenAI's sae-viewer and Neuronpedia show, computed once here and
// used by the app's inspector, the exported dashboard JSON, the HTML report and the CLI's `inspect`.
//   density      = tokens where f > 0 / valid tokens
//   meanActive   = mean of f over the tokens where f > 0
//   top          = the k strongest activations, each with `before` tokens of context before it and
//                  `after` after it (an activation already visible in a context taken is not taken again)
//   quantiles    = sae_vis's quantile groups: (0, max] cut into `intervals` equal-width intervals of
//                  activation; from each, `perInterval` activations spread evenly over its sorted values
//                  (deterministic), so a reader sees what the feature does well below its maximum
//   histogram    = counts of the non-zero activations in `bins` equal bins of [0, max]
//   temporal     = over valid adjacent pairs (same document, no padding; src/analysis/chunk.ts isValidPair):
//                  stayOn = P(on at t | on at t−1), onFromOff = P(on at t | off at t−1); runs = maximal
//                  stretches of consecutive active tokens that a document start or padding ends;
//                  meanRunLength = active tokens / runs (SPEC §6 mean_run_length for one feature)
// Pure: token text comes in through TokenLookup (src/data/tokenText.ts TokenText fits it).
import { summarizeFeature, type FeatureValues } from './inspector';

export interface TokenLookup {
  text(id: number): string;
  known(id: number): boolean;
  special(id: number): boolean;
}

export interface FeatureTokens extends FeatureValues {
  /** [N] 1 where a document starts (t = 0 or a document-start token); absent: only t = 0. */
  start?: Uint8Array;
  /** [N] token id per position, −1 where the data has none; absent: no ids at all. */
  ids?: Int32Array;
}

/** One token of a context as shown: its text, id and the feature's activation there. */
export interface TokenCell {
  /** Token id (−1 when the data has none). */
  id: number;
  /** The token's text (raw: spaces are spaces; src/analysis/tokenDisplay.ts makes them visible). */
  text: string;
  value: number;
  /** Text known (false: `text` is the `[id]` placeholder, or the data has no ids). */
  known: boolean;
  special?: boolean;
  /** Padding (not a real token). */
  pad?: boolean;
}

export interface DashboardContext {
  value: number;
  /** Sequence (order of the sequences given) and position of the activation. */
  sequence: number;
  position: number;
  /** Index in tokens of the activation itself. */
  center: number;
  tokens: TokenCell[];
}

export interface QuantileGroup {
  /** Activation interval (lo, hi]. */
  lo: number;
  hi: number;
  /** Activations in the interval, and their share of all non-zero activations. */
  count: number;
  share: number;
  contexts: DashboardContext[];
}

export interface TemporalBehaviour {
  /** Valid adjacent pairs seen. */
  pairs: number;
  stayOn: number;
  onFromOff: number;
  runs: number;
  meanRunLength: number;
  maxRunLength: number;
  /** runLengthCounts[k] = runs of length k + 1; the last entry counts every run of that length or longer. */
  runLengthCounts: number[];
}

export interface FeatureDashboard {
  feature: number;
  /** Valid tokens seen and tokens where the feature fired. */
  tokens: number;
  fired: number;
  density: number;
  meanActive: number;
  max: number;
  histogram: { edges: number[]; counts: number[] };
  top: DashboardContext[];
  quantiles: QuantileGroup[];
  temporal: TemporalBehaviour;
}

export interface DashboardOptions {
  top?: number;
  before?: number;
  after?: number;
  intervals?: number;
  perInterval?: number;
  bins?: number;
  /** Run-length histogram length (the last bucket holds the longer runs). */
  maxRunBucket?: number;
}

export const DASHBOARD_DEFAULTS: Required<DashboardOptions> = {
  top: 20,
  before: 12,
  after: 4,
  intervals: 5,
  perInterval: 5,
  bins: 30,
  maxRunBucket: 16,
};

/** The cell of token n (row n = s·T + t). */
export function tokenCell(fv: FeatureTokens, tokens: TokenLookup | null, n: number): TokenCell {
  const value = fv.values[n];
  if (!fv.valid[n]) return { id: -1, text: '', value, known: true, pad: true };
  const id = fv.ids ? fv.ids[n] : -1;
  if (id < 0) return { id, text: '·', value, known: false };
  if (!tokens || !tokens.known(id)) return { id, text: `[${id}]`, value, known: false };
  const cell: TokenCell = { id, text: tokens.text(id), value, known: true };
  if (tokens.special(id)) cell.special = true;
  return cell;
}

/** Cells of positions [from, to) of sequence s. */
export function tokenCells(
  fv: FeatureTokens,
  tokens: TokenLookup | null,
  s: number,
  from: number,
  to: number,
): TokenCell[] {
  const out: TokenCell[] = [];
  for (let t = Math.max(0, from); t < Math.min(fv.T, to); t++) out.push(tokenCell(fv, tokens, s * fv.T + t));
  return out;
}

function contextAt(
  fv: FeatureTokens,
  tokens: TokenLookup | null,
  n: number,
  before: number,
  after: number,
): DashboardContext {
  const s = Math.floor(n / fv.T),
    t = n % fv.T;
  const from = Math.max(0, t - before);
  return {
    value: fv.values[n],
    sequence: s,
    position: t,
    center: t - from,
    tokens: tokenCells(fv, tokens, s, from, t + after + 1),
  };
}

export function temporalBehaviour(
  fv: FeatureTokens,
  maxRunBucket = DASHBOARD_DEFAULTS.maxRunBucket,
): TemporalBehaviour {
  const { values, valid, T } = fv;
  let pairs = 0,
    onPrev = 0,
    onOn = 0,
    offPrev = 0,
    offOn = 0,
    runs = 0,
    active = 0,
    run = 0,
    maxRun = 0;
  const counts = new Array<number>(Math.max(1, maxRunBucket)).fill(0);
  const endRun = () => {
    if (run > 0) {
      runs++;
      counts[Math.min(counts.length, run) - 1]++;
      if (run > maxRun) maxRun = run;
    }
    run = 0;
  };
  for (let n = 0; n < values.length; n++) {
    const t = n % T;
    const on = valid[n] === 1 && values[n] > 0;
    const pair = t > 0 && valid[n] === 1 && valid[n - 1] === 1 && !(fv.start ? fv.start[n] : 0);
    if (pair) {
      pairs++;
      const prev = values[n - 1] > 0;
      if (prev) {
        onPrev++;
        if (on) onOn++;
      } else {
        offPrev++;
        if (on) offOn++;
      }
    }
    if (!pair || !on) endRun();
    if (on) {
      active++;
      run++;
    }
  }
  endRun();
  return {
    pairs,
    stayOn: onPrev ? onOn / onPrev : NaN,
    onFromOff: offPrev ? offOn / offPrev : NaN,
    runs,
    meanRunLength: runs ? active / runs : NaN,
    maxRunLength: maxRun,
    runLengthCounts: counts,
  };
}

/** sae_vis-style quantile groups, strongest interval first. */
export function quantileGroups(
  fv: FeatureTokens,
  tokens: TokenLookup | null,
  max: number,
  o: { intervals: number; perInterval: number; before: number; after: number },
): QuantileGroup[] {
  if (!(max > 0) || o.intervals < 1) return [];
  const buckets: number[][] = Array.from({ length: o.intervals }, () => []);
  let total = 0;
  for (let n = 0; n < fv.values.length; n++) {
    const v = fv.values[n];
    if (!fv.valid[n] || !(v > 0)) continue;
    total++;
    buckets[Math.min(o.intervals - 1, Math.ceil((v / max) * o.intervals) - 1)].push(n);
  }
  const out: QuantileGroup[] = [];
  for (let q = o.intervals - 1; q >= 0; q--) {
    const b = buckets[q];
    b.sort((x, y) => fv.values[y] - fv.values[x] || x - y);
    const k = Math.min(o.perInterval, b.length);
    const picks = Array.from({ length: k }, (_, i) => b[Math.floor(((i + 0.5) * b.length) / k)]);
    out.push({
      lo: (max * q) / o.intervals,
      hi: (max * (q + 1)) / o.intervals,
      count: b.length,
      share: total ? b.length / total : 0,
      contexts: picks.map((n) => contextAt(fv, tokens, n, o.before, o.after)),
    });
  }
  return out;
}

export function buildFeatureDashboard(
  feature: number,
  fv: FeatureTokens,
  tokens: TokenLookup | null,
  opts: DashboardOptions = {},
): FeatureDashboard {
  const o = { ...DASHBOARD_DEFAULTS, ...opts };
  const sum = summarizeFeature(fv, { contexts: o.top, before: o.before, after: o.after, bins: o.bins });
  let valid = 0,
    fired = 0;
  for (let n = 0; n < fv.values.length; n++)
    if (fv.valid[n]) {
      valid++;
      if (fv.values[n] > 0) fired++;
    }
  return {
    feature,
    tokens: valid,
    fired,
    density: sum.density,
    meanActive: sum.meanActive,
    max: sum.max,
    histogram: sum.histogram,
    top: sum.contexts.map((c) => contextAt(fv, tokens, c.sequence * fv.T + c.position, o.before, o.after)),
    quantiles: quantileGroups(fv, tokens, sum.max, o),
    temporal: temporalBehaviour(fv, o.maxRunBucket),
  };
}

/** Columns of the given features out of a [N, m] activation matrix (row-major), appended to `into`. */
export function appendFeatureColumns(f: Float32Array, m: number, features: number[], into: number[][]): void {
  const N = f.length / m;
  features.forEach((j, k) => {
    const col = into[k];
    for (let n = 0; n < N; n++) col.push(f[n * m + j]);
  });
}
