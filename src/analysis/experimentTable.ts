// The experiment's answer (issue 14): methods × metrics from the runs' own final evaluations, each cell
// the mean over seeds ± a Student t interval (seedStats.ts), and one generated sentence per metric that
// compares every method with the first (the baseline) by Welch's t test — or says the difference is
// within the noise. Every number in a sentence is one this table holds; none is typed in.

import { seedInterval, welch, type SeedInterval } from './seedStats';

/** Which way is better, for the metrics the sentences talk about (others: no direction, no sentence). */
export const METRIC_DIRECTION: Record<string, 'higher' | 'lower'> = {
  explained_variance: 'higher',
  mse: 'lower',
  cossim: 'higher',
  tv_ratio: 'lower',
  jaccard: 'higher',
  autocorr: 'higher',
  mean_run_length: 'higher',
  flip_rate: 'lower',
  act_smoothness: 'lower',
  fft_hf_ratio: 'lower',
  mmcs: 'higher',
  recovered: 'higher',
};

/**
 * Explained variance of a Matryoshka run's g-th nested prefix [0, end_g) (1-based; literature.ts groups,
 * the last prefix is the whole dictionary). Only runs whose architecture has prefixes report it.
 */
export const prefixEvMetric = (g: number) => `explained_variance_prefix_${g}`;
const PREFIX_EV = /^explained_variance_prefix_([1-9][0-9]*)$/;

/** A metric's direction: METRIC_DIRECTION's, and every prefix's explained variance is higher-better. */
export function metricDirection(k: string): 'higher' | 'lower' | undefined {
  return METRIC_DIRECTION[k] ?? (PREFIX_EV.test(k) ? 'higher' : undefined);
}

/**
 * A metric list with the name `explained_variance_prefix` in it stands for every prefix's explained
 * variance the runs report (`explained_variance_prefix_1`, `_2`, …, by g), in that place.
 */
export function expandPrefixMetrics(names: readonly string[], keys: Iterable<string>): string[] {
  const gs = [...new Set([...keys].flatMap((k) => PREFIX_EV.exec(k)?.[1] ?? []))]
    .map(Number)
    .sort((a, b) => a - b);
  return names.flatMap((k) => (k === 'explained_variance_prefix' ? gs.map(prefixEvMetric) : [k]));
}

/** A column's hover text: what a prefix column is (others: the metric's name). */
export function metricTitle(k: string): string {
  const g = PREFIX_EV.exec(k)?.[1];
  return g
    ? `explained variance of Matryoshka prefix ${g} (features [0, end of prefix ${g})); methods without prefixes: —`
    : k;
}

/** The metrics of the default table, in this order (those a run did not report are left out). */
export const DEFAULT_TABLE_METRICS = [
  'explained_variance',
  'explained_variance_prefix',
  'l0',
  'sequence_l0',
  'tv_ratio',
  'jaccard',
  'autocorr',
  'mean_run_length',
  'flip_rate',
  'act_smoothness',
  'fft_hf_ratio',
  'mmcs',
  'recovered',
  'dead_count',
];

export interface ExperimentRun {
  method: string;
  seed: number;
  /** The run's final held-out metrics (SPEC §6 and §11 names). */
  metrics: Record<string, number>;
}

export interface ExperimentTable {
  methods: string[];
  metrics: string[];
  /** cells[method][metric]: values per seed (in seed order) and their interval. */
  cells: Record<string, Record<string, SeedInterval & { values: number[]; seeds: number[] }>>;
  /**
   * One sentence per metric with a direction, comparing each method with the first (methods[0] when
   * it has the metric); methods without the metric (no prefixes) are in no sentence.
   */
  sentences: { metric: string; text: string }[];
  level: number;
}

/** How the table, the sentences and the report write a number (the app's panel too). */
export const fmt = (v: number) =>
  !Number.isFinite(v)
    ? '—'
    : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
      ? v.toExponential(3)
      : v.toPrecision(4);

function fmtP(p: number): string {
  return !Number.isFinite(p) ? 'n/a' : p < 1e-4 ? 'p < 1e-4' : `p = ${p.toPrecision(2)}`;
}

export function experimentTable(
  runs: ExperimentRun[],
  metricNames = DEFAULT_TABLE_METRICS,
  level = 0.95,
): ExperimentTable {
  const methods = [...new Set(runs.map((r) => r.method))];
  const metrics = expandPrefixMetrics(
    metricNames,
    runs.flatMap((r) => Object.keys(r.metrics)),
  ).filter((k) => runs.some((r) => Number.isFinite(r.metrics[k])));
  const cells: ExperimentTable['cells'] = {};
  for (const meth of methods) {
    const mine = runs.filter((r) => r.method === meth).sort((a, b) => a.seed - b.seed);
    cells[meth] = {};
    for (const k of metrics) {
      const values = mine.map((r) => r.metrics[k] ?? NaN);
      cells[meth][k] = { ...seedInterval(values, level), values, seeds: mine.map((r) => r.seed) };
    }
  }
  const sentences: ExperimentTable['sentences'] = [];
  for (const k of metrics) {
    const dir = metricDirection(k);
    // Only methods that have the metric are compared (a plain SAE has no prefixes): the baseline is the
    // first of them.
    const have = methods.filter((m) => cells[m][k].n > 0);
    if (!dir || have.length < 2) continue;
    const base = have[0];
    const parts: string[] = [];
    for (const meth of have.slice(1)) {
      const a = cells[meth][k],
        b = cells[base][k];
      const w = welch(a.values, b.values, level);
      const pctLevel = `${Math.round(level * 100)} %`;
      if (!Number.isFinite(w.p)) {
        parts.push(
          `${meth} ${fmt(a.mean)} vs ${base} ${fmt(b.mean)} on ${k} (${a.n < 2 && b.n < 2 ? 'one seed each side' : `${a.n} and ${b.n} seeds`}: no interval, no verdict)`,
        );
        continue;
      }
      const better = dir === 'higher' ? w.diff > 0 : w.diff < 0;
      const rel =
        b.mean !== 0 ? ` (${w.diff > 0 ? '+' : ''}${((100 * w.diff) / Math.abs(b.mean)).toFixed(1)} %)` : '';
      const numbers =
        `${fmt(a.mean)} vs ${fmt(b.mean)}, difference ${fmt(w.diff)}${rel}, ${pctLevel} CI ±${fmt(w.half)}, ` +
        `Welch ${fmtP(w.p)}, ${a.n} and ${b.n} seeds`;
      parts.push(
        w.p < 1 - level
          ? `${meth} is ${better ? 'better' : 'worse'} than ${base} on ${k} (${dir} is better): ${numbers}`
          : `${meth} and ${base} do not differ on ${k} beyond the noise: ${numbers}`,
      );
    }
    if (parts.length) sentences.push({ metric: k, text: `${parts.join('; ')}.` });
  }
  return { methods, metrics, cells, sentences, level };
}

/** The table as CSV: one row per method, mean and half-width per metric, then the per-seed values. */
export function experimentCsv(t: ExperimentTable): string {
  const head = ['method', ...t.metrics.flatMap((k) => [`${k}_mean`, `${k}_ci_half`, `${k}_n`])];
  const rows = t.methods.map((meth) => [
    JSON.stringify(meth),
    ...t.metrics.flatMap((k) => {
      const c = t.cells[meth][k];
      return [c.mean, c.half, c.n].map((v) => (Number.isFinite(v) ? String(v) : ''));
    }),
  ]);
  return [head.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An inline SVG scatter of method means with ± interval bars on both axes (a frontier plot). */
function frontierSvg(t: ExperimentTable, xk: string, yk: string): string {
  if (!t.metrics.includes(xk) || !t.metrics.includes(yk)) return '';
  const pts = t.methods.map((m) => ({ m, x: t.cells[m][xk], y: t.cells[m][yk] }));
  const xs = pts
    .flatMap((p) => [p.x.mean - (p.x.half || 0), p.x.mean + (p.x.half || 0)])
    .filter(Number.isFinite);
  const ys = pts
    .flatMap((p) => [p.y.mean - (p.y.half || 0), p.y.mean + (p.y.half || 0)])
    .filter(Number.isFinite);
  if (!xs.length || !ys.length) return '';
  // 5 % margin on each side so the interval bars stay inside the frame.
  const pad = (lo: number, hi: number) => [lo - 0.05 * (hi - lo || 1), hi + 0.05 * (hi - lo || 1)];
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs)),
    [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  const W = 420,
    H = 280,
    P = 50;
  const sx = (v: number) => P + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const sy = (v: number) => H - P - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * P);
  const marks = pts
    .map(({ m, x, y }, i) => {
      const cx = sx(x.mean),
        cy = sy(y.mean);
      const hx = Number.isFinite(x.half)
        ? `<line x1="${sx(x.mean - x.half)}" x2="${sx(x.mean + x.half)}" y1="${cy}" y2="${cy}" stroke="#888"/>`
        : '';
      const hy = Number.isFinite(y.half)
        ? `<line x1="${cx}" x2="${cx}" y1="${sy(y.mean - y.half)}" y2="${sy(y.mean + y.half)}" stroke="#888"/>`
        : '';
      return `${hx}${hy}<circle cx="${cx}" cy="${cy}" r="4" fill="hsl(${(i * 67) % 360} 70% 45%)"/><text x="${cx + 6}" y="${cy - 6}" font-size="11">${esc(m)}</text>`;
    })
    .join('');
  return (
    `<figure><svg width="${W}" height="${H}" role="img" aria-label="${esc(yk)} against ${esc(xk)}">` +
    `<rect x="${P}" y="${P}" width="${W - 2 * P}" height="${H - 2 * P}" fill="none" stroke="#ccc"/>${marks}` +
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="12">${esc(xk)} (${fmt(x0)} … ${fmt(x1)})</text>` +
    `<text x="12" y="${H / 2}" font-size="12" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yk)} (${fmt(y0)} … ${fmt(y1)})</text>` +
    `</svg><figcaption>${esc(yk)} against ${esc(xk)}: mean over seeds ± ${Math.round(t.level * 100)} % t interval</figcaption></figure>`
  );
}

/** The frontier plots' axes: L0 against explained variance and against smoothness (T-SAE's, else tv_ratio). */
export function frontierAxes(t: Pick<ExperimentTable, 'metrics'>): [string, string][] {
  return [
    ['l0', 'explained_variance'],
    ['l0', t.metrics.includes('act_smoothness') ? 'act_smoothness' : 'tv_ratio'],
  ];
}

/** An inline SVG of one by-position metric: each method's mean over seeds at every position. */
function byPositionSvg(b: ExperimentByPosition, k: string, methods: string[]): string {
  const lines = methods.map((m) => b.cells[m]?.[k]?.mean ?? []);
  const T = Math.max(0, ...lines.map((l) => l.length));
  const vals = lines.flat().filter(Number.isFinite);
  if (T < 2 || !vals.length) return '';
  const W = 420,
    H = 200,
    P = 40;
  const lo = Math.min(...vals),
    hi = Math.max(...vals);
  const sx = (t: number) => P + (t / (T - 1)) * (W - 2 * P);
  const sy = (v: number) => H - P - ((v - lo) / (hi - lo || 1)) * (H - 2 * P);
  const paths = lines
    .map((l, i) => {
      let d = '',
        pen = false;
      l.forEach((v, t) => {
        if (!Number.isFinite(v)) return void (pen = false);
        d += `${pen ? 'L' : 'M'}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`;
        pen = true;
      });
      return d
        ? `<path d="${d}" fill="none" stroke="hsl(${(i * 67) % 360} 70% 45%)" stroke-width="1.5"><title>${esc(methods[i])}</title></path>`
        : '';
    })
    .join('');
  return (
    `<figure><svg width="${W}" height="${H}" role="img" aria-label="${esc(k)} by position">` +
    `<rect x="${P}" y="${P}" width="${W - 2 * P}" height="${H - 2 * P}" fill="none" stroke="#ccc"/>${paths}` +
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle" font-size="12">position (0 … ${T - 1})</text>` +
    `<text x="10" y="${H / 2}" font-size="12" transform="rotate(-90 10 ${H / 2})" text-anchor="middle">${esc(k)} (${fmt(lo)} … ${fmt(hi)})</text>` +
    `</svg><figcaption>${esc(k)} by position: mean over seeds (hover a line for its method)</figcaption></figure>`
  );
}

/** A one-file HTML report: the table, the frontiers, the sentences and (given) the by-position means. */
export function experimentHtml(t: ExperimentTable, title: string, byPosition?: ExperimentByPosition): string {
  const head = `<tr><th>method</th>${t.metrics.map((k) => `<th title="${esc(metricTitle(k))}">${esc(k)}</th>`).join('')}</tr>`;
  const body = t.methods
    .map(
      (m) =>
        `<tr><th>${esc(m)}</th>${t.metrics
          .map((k) => {
            const c = t.cells[m][k];
            const tip = c.n ? c.values.map(fmt).join(', ') : `${m}'s runs do not report ${k}`;
            return `<td title="${esc(tip)}">${fmt(c.mean)}${Number.isFinite(c.half) ? ` ± ${fmt(c.half)}` : ''}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}figure{display:inline-block;margin:1em}</style></head><body>
<h1>${esc(title)}</h1>
<p>Mean over seeds ± half-width of the two-sided ${Math.round(t.level * 100)} % Student t interval (hover a cell for the per-seed values).</p>
<table>${head}${body}</table>
${frontierAxes(t)
  .map(([xk, yk]) => frontierSvg(t, xk, yk))
  .join('')}
<h2>What the numbers say</h2><ul>${t.sentences.map((s) => `<li>${esc(s.text)}</li>`).join('')}</ul>
${byPosition?.metrics.length ? `<h2>By position</h2>${byPosition.metrics.map((k) => byPositionSvg(byPosition, k, Object.keys(byPosition.cells))).join('')}` : ''}
</body></html>
`;
}

/** Per method and position: mean ± t interval over seeds of each by-position metric (runs' eval.json). */
export interface ExperimentByPosition {
  metrics: string[];
  /** [method][metric] → per position mean, half-width and seeds counted. */
  cells: Record<string, Record<string, { mean: number[]; half: number[]; n: number[] }>>;
}

export const BY_POSITION_METRICS = [
  'recon_loss',
  'l0',
  'tv_ratio',
  'jaccard',
  'flip_rate',
  'act_smoothness',
  'fft_hf_ratio',
  'sequence_l0',
  // Every prefix's by-position explained variance (evaluate.ts EvalByPosition).
  'explained_variance_prefix',
];

export function experimentByPosition(
  runs: { method: string; byPosition: Record<string, number[] | undefined> }[],
  level = 0.95,
  metricNames = BY_POSITION_METRICS,
): ExperimentByPosition {
  const methods = [...new Set(runs.map((r) => r.method))];
  const metrics = expandPrefixMetrics(
    metricNames,
    runs.flatMap((r) => Object.keys(r.byPosition)),
  ).filter((k) => runs.some((r) => r.byPosition[k]?.length));
  const cells: ExperimentByPosition['cells'] = {};
  for (const meth of methods) {
    const mine = runs.filter((r) => r.method === meth);
    cells[meth] = {};
    for (const k of metrics) {
      const T = Math.max(0, ...mine.map((r) => r.byPosition[k]?.length ?? 0));
      const mean: number[] = [],
        half: number[] = [],
        n: number[] = [];
      for (let t = 0; t < T; t++) {
        const c = seedInterval(
          mine.map((r) => r.byPosition[k]?.[t] ?? NaN),
          level,
        );
        mean.push(c.mean);
        half.push(c.half);
        n.push(c.n);
      }
      cells[meth][k] = { mean, half, n };
    }
  }
  return { metrics, cells };
}

/** By-position CSV: one row per method, metric and position. */
export function byPositionCsv(b: ExperimentByPosition): string {
  const rows = ['method,metric,position,mean,ci_half,n'];
  for (const [meth, byMetric] of Object.entries(b.cells))
    for (const [k, c] of Object.entries(byMetric))
      c.mean.forEach((v, t) =>
        rows.push(
          [JSON.stringify(meth), k, t, v, c.half[t], c.n[t]]
            .map((x) => (typeof x === 'number' && !Number.isFinite(x) ? '' : String(x)))
            .join(','),
        ),
      );
  return rows.join('\n') + '\n';
}
