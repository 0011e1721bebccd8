// The experiment table: per-seed values, mean ± t interval, and sentences whose numbers are the table's.
import { describe, expect, it } from 'vitest';
import {
  byPositionCsv,
  experimentByPosition,
  experimentCsv,
  experimentHtml,
  experimentTable,
  type ExperimentRun,
} from '../../../src/analysis/experimentTable';
import { experimentRunOf } from '../../../src/analysis/experimentPlan';
import { seedInterval, welch } from '../../../src/analysis/seedStats';

const runs: ExperimentRun[] = [
  ...[0.5, 0.52, 0.48].map((tv, i) => ({
    method: 'plain',
    seed: i + 1,
    metrics: { tv_ratio: tv, explained_variance: [0.9, 0.91, 0.89][i], l0: 8 },
  })),
  // Seeds listed out of order: the table sorts by seed.
  ...[0.41, 0.4, 0.39].map((tv, i) => ({
    method: 'ours λ2=0.2',
    seed: [2, 1, 3][i],
    metrics: { tv_ratio: tv, explained_variance: [0.905, 0.9, 0.895][i], l0: 8 },
  })),
];

describe('experimentTable', () => {
  it('cells are the seeds’ values with a t interval', () => {
    const t = experimentTable(runs);
    expect(t.methods).toEqual(['plain', 'ours λ2=0.2']);
    expect(t.metrics).toEqual(['explained_variance', 'l0', 'tv_ratio']);
    const c = t.cells['ours λ2=0.2'].tv_ratio;
    expect(c.seeds).toEqual([1, 2, 3]);
    expect(c.values).toEqual([0.4, 0.41, 0.39]);
    const want = seedInterval([0.4, 0.41, 0.39]);
    expect(c.mean).toBe(want.mean);
    expect(c.half).toBe(want.half);
  });

  it('sentences: a real difference named with its numbers, a small one called noise', () => {
    const t = experimentTable(runs);
    const tv = t.sentences.find((s) => s.metric === 'tv_ratio')!.text;
    const w = welch([0.4, 0.41, 0.39], [0.5, 0.52, 0.48]);
    expect(w.p).toBeLessThan(0.05);
    expect(tv).toContain('ours λ2=0.2 is better than plain on tv_ratio (lower is better)');
    expect(tv).toContain(`difference ${w.diff.toPrecision(4)}`);
    expect(tv).toContain(`±${w.half.toPrecision(4)}`);
    expect(tv).toContain('3 and 3 seeds');
    const ev = t.sentences.find((s) => s.metric === 'explained_variance')!.text;
    expect(ev).toContain('do not differ on explained_variance beyond the noise');
    // l0 has no direction: no sentence.
    expect(t.sentences.map((s) => s.metric)).toEqual(['explained_variance', 'tv_ratio']);
  });

  it('one seed: no interval, no verdict', () => {
    const t = experimentTable(runs.filter((r) => r.seed === 1));
    expect(t.cells.plain.tv_ratio.half).toBeNaN();
    expect(t.sentences[0].text).toContain('no verdict');
    expect(t.sentences[0].text).toContain(`on ${t.sentences[0].metric} (one seed each side`);
  });

  it('CSV and HTML carry the same numbers', () => {
    const t = experimentTable(runs);
    const csv = experimentCsv(t).trim().split('\n');
    expect(csv[0]).toBe(
      'method,explained_variance_mean,explained_variance_ci_half,explained_variance_n,l0_mean,l0_ci_half,l0_n,tv_ratio_mean,tv_ratio_ci_half,tv_ratio_n',
    );
    expect(csv[2].split(',')[7]).toBe(String(t.cells['ours λ2=0.2'].tv_ratio.mean));
    const html = experimentHtml(t, 'test');
    expect(html).toContain('<svg');
    expect(html).toContain('is better than plain on tv_ratio');
    expect(html).toContain(
      `${t.cells.plain.tv_ratio.mean.toPrecision(4)} ± ${t.cells.plain.tv_ratio.half.toPrecision(4)}`,
    );
  });
});

describe('experimentByPosition', () => {
  it('per position mean and t interval over seeds; a position a seed lacks counts one seed fewer', () => {
    const b = experimentByPosition([
      { method: 'a', byPosition: { tv_ratio: [1, 2] } },
      { method: 'a', byPosition: { tv_ratio: [3, NaN] } },
    ]);
    const c = b.cells.a.tv_ratio;
    expect(c.mean).toEqual([2, 2]);
    expect(c.n).toEqual([2, 1]);
    // 1, 3: s = √2, half = t_{0.975,1}·√2/√2 = 12.706.
    expect(c.half[0]).toBeCloseTo(12.7062, 3);
    expect(c.half[1]).toBeNaN();
    expect(b.metrics).toEqual(['tv_ratio']);
    expect(byPositionCsv(b).trim().split('\n')).toEqual([
      'method,metric,position,mean,ci_half,n',
      `"a",tv_ratio,0,2,${c.half[0]},2`,
      '"a",tv_ratio,1,2,,1',
    ]);
    // The HTML report draws it: one line per method through (x(t), y(mean_t)), a gap where a mean is missing.
    const gap = experimentByPosition([{ method: 'a', byPosition: { fft_hf_ratio: [NaN, 1, 3, NaN, 2] } }]);
    const html = experimentHtml(experimentTable(runs.slice(0, 1)), 'bp', gap);
    expect(html).toContain('<h2>By position</h2>');
    expect(html).toContain('fft_hf_ratio by position');
    // W 420, P 40: x(t) = 40 + t·85; values 1…3 onto y 160…40 (H 200).
    expect(html).toContain('d="M125.0,160.0L210.0,40.0M380.0,100.0"');
    expect(experimentHtml(experimentTable(runs), 'no bp')).not.toContain('By position');
  });
});

describe('per Matryoshka prefix explained variance', () => {
  // A plain SAE (no prefixes) first, then two prefix methods, 3 seeds each: g = 1 the high-level prefix,
  // g = 2 the whole dictionary.
  /** Seeds 1, 2, …: per seed [prefix 1's EV, prefix 2's EV] (prefix 2's = the run's explained variance). */
  const prefixMethod = (name: string, perSeed: [number, number][]) =>
    perSeed.map(([p1, p2], i) =>
      experimentRunOf(name, i + 1, 1024, { explained_variance: p2, l0: 4 }, [
        { explained_variance: p1 },
        { explained_variance: p2 },
      ]),
    );
  const prefixRuns: ExperimentRun[] = [
    ...[1, 2, 3].map((seed) => experimentRunOf('plain', seed, 1024, { explained_variance: 0.9, l0: 4 })),
    ...prefixMethod('mat', [
      [0.6, 0.9],
      [0.62, 0.91],
      [0.58, 0.89],
    ]),
    ...prefixMethod('tsae', [
      [0.5, 0.88],
      [0.52, 0.9],
      [0.54, 0.92],
    ]),
  ];

  it('experimentRunOf: one metric per prefix from the evaluation’s groups; garbage adds nothing', () => {
    expect(prefixRuns[3].metrics).toEqual({
      tokens_seen: 1024,
      explained_variance: 0.9,
      l0: 4,
      explained_variance_prefix_1: 0.6,
      explained_variance_prefix_2: 0.9,
    });
    expect(prefixRuns[0].metrics).not.toHaveProperty('explained_variance_prefix_1');
    const bad = [{ explained_variance: 'x' }, null, { explained_variance: 0.7 }] as unknown as {
      explained_variance: number;
    }[];
    expect(experimentRunOf('m', 1, null, {}, bad).metrics).toEqual({ explained_variance_prefix_3: 0.7 });
    const notList = { 0: { explained_variance: 1 } } as unknown as { explained_variance: number }[];
    expect(experimentRunOf('m', 1, null, {}, notList).metrics).toEqual({});
  });

  it('columns after explained_variance; mean ± t over seeds; a method without prefixes has none', () => {
    const t = experimentTable(prefixRuns);
    expect(t.metrics).toEqual([
      'explained_variance',
      'explained_variance_prefix_1',
      'explained_variance_prefix_2',
      'l0',
    ]);
    // mat prefix 1: 0.6, 0.62, 0.58 → mean 0.6, s = √((0 + 0.02² + 0.02²)/2) = 0.02,
    // half = t_{0.975,2}·s/√3 = 4.302653 · 0.02 / 1.732051 = 0.0496827.
    const c = t.cells.mat.explained_variance_prefix_1;
    expect(c.values).toEqual([0.6, 0.62, 0.58]);
    expect(c.mean).toBeCloseTo(0.6, 12);
    expect(c.half).toBeCloseTo(0.0496827, 6);
    // tsae prefix 2: 0.88, 0.9, 0.92 → mean 0.9, the same half-width.
    expect(t.cells.tsae.explained_variance_prefix_2.mean).toBeCloseTo(0.9, 12);
    expect(t.cells.tsae.explained_variance_prefix_2.half).toBeCloseTo(0.0496827, 6);
    // plain: no value, no mean (shown as —), never a made-up number.
    const p = t.cells.plain.explained_variance_prefix_1;
    expect(p.n).toBe(0);
    expect(p.mean).toBeNaN();
    expect(p.values.every((v) => Number.isNaN(v))).toBe(true);
    // An experiment file's own list: the name 'explained_variance_prefix' stands for every prefix.
    expect(experimentTable(prefixRuns, ['explained_variance_prefix', 'l0']).metrics).toEqual([
      'explained_variance_prefix_1',
      'explained_variance_prefix_2',
      'l0',
    ]);
    expect(experimentTable(prefixRuns, ['explained_variance_prefix_2']).metrics).toEqual([
      'explained_variance_prefix_2',
    ]);
    // No method with prefixes: no prefix columns.
    expect(experimentTable(prefixRuns.slice(0, 3)).metrics).toEqual(['explained_variance', 'l0']);
  });

  it('sentences compare only the methods that have the metric (baseline: the first of them)', () => {
    const t = experimentTable(prefixRuns);
    const s1 = t.sentences.find((s) => s.metric === 'explained_variance_prefix_1')!.text;
    // tsae − mat = 0.52 − 0.6 = −0.08, each side s = 0.02 over 3 seeds: se = √(2·0.02²/3) = 0.016330,
    // Welch df = 4, t = −4.899 → p ≈ 0.008: tsae is worse (higher is better).
    const w = welch([0.5, 0.52, 0.54], [0.6, 0.62, 0.58]);
    expect(w.df).toBeCloseTo(4, 10);
    expect(w.diff).toBeCloseTo(-0.08, 12);
    expect(w.p).toBeLessThan(0.01);
    expect(w.p).toBeGreaterThan(0.005);
    expect(s1).toContain('tsae is worse than mat on explained_variance_prefix_1 (higher is better)');
    expect(s1).toContain(`difference ${w.diff.toPrecision(4)}`);
    expect(s1).not.toMatch(/\bplain\b/);
    const s2 = t.sentences.find((s) => s.metric === 'explained_variance_prefix_2')!.text;
    expect(s2).toContain('tsae and mat do not differ on explained_variance_prefix_2 beyond the noise');
    expect(s2).not.toMatch(/\bplain\b/);
    // Whole-dictionary explained variance: all three have it, plain stays the baseline.
    const ev = t.sentences.find((s) => s.metric === 'explained_variance')!.text;
    expect(ev).toContain('mat and plain');
    // One prefix method alone: nothing to compare, no prefix sentence.
    const lone = experimentTable(prefixRuns.slice(0, 6));
    expect(lone.sentences.map((s) => s.metric)).toEqual(['explained_variance']);
  });

  it('CSV: empty mean and half with n 0 for a method without prefixes; HTML: —', () => {
    const t = experimentTable(prefixRuns);
    const csv = experimentCsv(t).trim().split('\n');
    const head = csv[0].split(',');
    const at = head.indexOf('explained_variance_prefix_1_mean');
    expect(head.slice(at, at + 3)).toEqual([
      'explained_variance_prefix_1_mean',
      'explained_variance_prefix_1_ci_half',
      'explained_variance_prefix_1_n',
    ]);
    expect(csv[1].split(',').slice(at, at + 3)).toEqual(['', '', '0']);
    expect(csv[2].split(',').slice(at, at + 3)).toEqual([
      String(t.cells.mat.explained_variance_prefix_1.mean),
      String(t.cells.mat.explained_variance_prefix_1.half),
      '3',
    ]);
    const html = experimentHtml(t, 'prefixes');
    expect(html).toContain(`<td title="plain's runs do not report explained_variance_prefix_1">—</td>`);
    const c = t.cells.mat.explained_variance_prefix_1;
    expect(html).toContain(`${c.mean.toPrecision(4)} ± ${c.half.toPrecision(4)}`);
    expect(html).toContain('tsae is worse than mat on explained_variance_prefix_1');
  });

  it('by position: one line per prefix the evaluations report (evaluate.ts explained_variance_prefix_g)', () => {
    const b = experimentByPosition([
      { method: 'plain', byPosition: { l0: [4, 4] } },
      {
        method: 'mat',
        byPosition: {
          l0: [4, 4],
          explained_variance_prefix_1: [0.5, 0.7],
          explained_variance_prefix_2: [0.8, 0.9],
        },
      },
      { method: 'mat', byPosition: { l0: [4, 4], explained_variance_prefix_1: [0.7, 0.9] } },
    ]);
    expect(b.metrics).toEqual(['l0', 'explained_variance_prefix_1', 'explained_variance_prefix_2']);
    // Prefix 1 at t = 0: 0.5, 0.7 → mean 0.6, half = t_{0.975,1}·s/√2 = 12.7062·0.141421/1.414214 = 1.27062.
    expect(b.cells.mat.explained_variance_prefix_1.mean[0]).toBeCloseTo(0.6, 12);
    expect(b.cells.mat.explained_variance_prefix_1.half[0]).toBeCloseTo(1.27062, 4);
    expect(b.cells.mat.explained_variance_prefix_2.n).toEqual([1, 1]);
    expect(b.cells.plain.explained_variance_prefix_1.mean).toEqual([]);
    const csv = byPositionCsv(b);
    expect(csv).toContain('"mat",explained_variance_prefix_2,1,0.9,,1');
    expect(csv).not.toContain('"plain",explained_variance_prefix');
    // The HTML report draws it.
    expect(experimentHtml(experimentTable(runs), 'bp', b)).toContain(
      'explained_variance_prefix_2 by position',
    );
  });
});
