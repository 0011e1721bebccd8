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
