// The dashboard JSON and the HTML report (issue 10): a dashboard written is read back field for field
// by the strict reader, which names the first bad field of a hostile file; the report is one file with
// no external reference, shows token text with visible spaces, and embeds the same dashboards.
import { describe, expect, it } from 'vitest';
import { buildFeatureDashboard } from '../../../src/analysis/featureDashboard';
import { dashboardFile, dashboardToJson, parseDashboardFile } from '../../../src/io/dashboardJson';
import { SaeFileError } from '../../../src/io/errors';
import { buildHtmlReport, dashboardsInReport } from '../../../src/io/htmlReport';

const T = 8;
const values = Float32Array.from({ length: 4 * T }, (_, n) => (n % 5 === 2 ? 1 + (n % 3) : 0));
const ids = Int32Array.from({ length: 4 * T }, (_, n) => (n % T === 0 ? 0 : 1 + (n % 4)));
const words = ['<bos>', ' the', ' cat', '\n', ' sat'];
const lookup = {
  text: (i: number) => words[i],
  known: (i: number) => i < words.length,
  special: (i: number) => i === 0,
};
const fv = { values, valid: new Uint8Array(4 * T).fill(1), T, ids };

function file() {
  return dashboardFile({
    run: { name: 'run <1>', step: 10, config: { d_sae: 4 } },
    data: { label: 'acts.npz', split: 'held-out', tokens_per_sequence: T, sequences: 4 },
    tokenText: { name: 'vocab.json', kind: 'vocabulary' },
    context: { before: 12, after: 4 },
    dashboards: [
      buildFeatureDashboard(3, fv, lookup),
      buildFeatureDashboard(1, { ...fv, values: new Float32Array(4 * T) }, lookup),
    ],
    createdAt: '2026-01-01T00:00:00.000Z',
  });
}

describe('feature dashboard JSON', () => {
  it('round-trips: what is written is what is read (NaN as null)', () => {
    const f = file();
    const back = parseDashboardFile(dashboardToJson(f), 'd.json');
    expect(back.features.map((x) => x.index)).toEqual([3, 1]);
    const top = back.features[0].top_contexts[0];
    expect(top.tokens[top.max_value_token_index]).toBe(
      f.features[0].top_contexts[0].tokens[top.max_value_token_index],
    );
    expect(top.max_value).toBe(3);
    expect(top.tokens.length).toBe(top.values.length);
    expect(back.features[0].quantile_groups.length).toBe(5);
    // The dead feature: stay-on is undefined → null.
    expect(back.features[1].temporal.stay_on).toBeNull();
    expect(JSON.parse(dashboardToJson(back))).toEqual(JSON.parse(dashboardToJson(f)));
    // Special tokens are indexed.
    const withBos = back.features[0].top_contexts.find((c) => c.token_ids.includes(0))!;
    expect(withBos.special_token_indices).toEqual([withBos.token_ids.indexOf(0)]);
  });

  it.each([
    ['{', /^d\.json: not valid JSON/],
    ['{"format":"x"}', /^d\.json: format: expected "temposae\.feature-dashboards"/],
  ])('rejects a broken file (%#)', (text, msg) => {
    expect(() => parseDashboardFile(text, 'd.json')).toThrow(msg);
  });

  it('names the first bad field of a tampered file', () => {
    const good = JSON.parse(dashboardToJson(file()));
    const cases: [(j: typeof good) => void, RegExp][] = [
      [
        (j) => (j.features[0].top_contexts[0].values = [1]),
        /features\[0\]\.top_contexts\[0\]: tokens \(\d+\), token_ids \(\d+\) and values \(1\) differ/,
      ],
      [
        (j) => (j.features[0].top_contexts[0].max_value_token_index = 99),
        /max_value_token_index: 99 is outside/,
      ],
      [(j) => j.features[0].histogram.counts.pop(), /histogram: 31 bin edges for 29 counts/],
      [(j) => (j.features[1].frac_nonzero = 'a'), /features\[1\]\.frac_nonzero: expected a finite number/],
      [(j) => (j.version = 99), /version: 99 is newer/],
    ];
    for (const [tamper, msg] of cases) {
      const j = structuredClone(good);
      tamper(j);
      const err = (() => {
        try {
          parseDashboardFile(JSON.stringify(j), 'd.json');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(SaeFileError);
      expect((err as Error).message).toMatch(msg);
    }
  });
});

describe('HTML report', () => {
  const html = buildHtmlReport({
    title: 'run <1> — report',
    createdAt: '2026-01-01',
    config: { d_sae: 4, lr: 0.001 },
    data: { label: 'acts.npz', tokenText: 'vocab.json' },
    curves: [{ name: 'loss', step: [1, 2, 3], values: [3, 2, 1.5] }],
    evals: [
      { step: 5, metrics: { explained_variance: 0.5, l0: 3 } },
      { step: 10, metrics: { explained_variance: 0.7, l0: 2 } },
    ],
    clustering: {
      features: [3, 1, 2],
      order: [1, 0, 2],
      linkage: { a: [0, 2], b: [1, 3], dist: [0.2, 0.5] },
      heatByPosition: [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
    },
    dashboards: file(),
  });

  it('is one file: nothing loaded from elsewhere, no script to run', () => {
    expect(html).not.toMatch(/<(link|img|iframe)\b/i);
    expect(html).not.toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="application/json" id="dashboards">']);
  });

  it('shows token text with visible whitespace, escaped, and the run’s curves, metrics and clustering', () => {
    expect(html).toContain('<title>run &lt;1&gt; — report</title>');
    expect(html).toContain('>␣cat</span>');
    expect(html).toContain('>↵</span>');
    expect(html).toContain('>&lt;bos&gt;</span>');
    expect(html).toContain('aria-label="loss"');
    expect(html).toContain('aria-label="held-out explained_variance"');
    expect(html).toMatch(/aria-label="Clustering[^"]*"/);
    // The dendrogram: one elbow per merge.
    expect(html.match(/M[\d.]+,[\d.]+H[\d.]+V[\d.]+H[\d.]+/g)?.length).toBe(2);
    expect(html).toContain('id="feature-3"');
    // A table of contents links each feature's section within the file.
    expect(html).toContain('<a href="#feature-3">f3</a>');
    expect(html).toContain('<a href="#feature-1">f1</a>');
  });

  it('embeds the dashboards in the documented shape', () => {
    const embedded = dashboardsInReport(html);
    expect(parseDashboardFile(JSON.stringify(embedded), 'report.html').features.map((f) => f.index)).toEqual([
      3, 1,
    ]);
  });
});
