// The analysis views render data into SVG without a browser (react-dom/server): counts of marks and
// the labels that carry numbers.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { densityHistogram } from '../../../src/analysis/histogram';
import { ClusterView } from '../../../src/ui/analysis/ClusterView';
import { DensityView } from '../../../src/ui/analysis/DensityView';
import { paretoFront, REFERENCE_POINTS, ScatterFrontier } from '../../../src/ui/analysis/ScatterFrontier';
import type { EvalClustering } from '../../../src/analysis/evaluate';

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

describe('analysis views (server-rendered SVG)', () => {
  it('density histogram: a bar per non-empty bin, dead and dense counts', () => {
    const html = renderToStaticMarkup(
      createElement(DensityView, { hist: densityHistogram([0, 0, 1e-3, 0.5, 1], { bins: 10 }), width: 400 }),
    );
    expect(count(html, /class="an-bar"/g)).toBe(3);
    const text = html.replace(/<!-- -->/g, '');
    expect(text).toContain('dead: 2 of 5');
    expect(text).toContain('dense (&gt; 0.1): 2');
  });

  it('clustering: one elbow per merge, one clickable leaf per feature, heatmap K × T', () => {
    const c: EvalClustering = {
      features: [7, 3, 9],
      order: [1, 0, 2],
      linkage: { a: [0, 2], b: [1, 3], dist: [0.2, 0.9], size: [2, 3] },
      heatByPosition: [[0, 1], [2, 0], [1, 1]], // prettier-ignore
      fireByPosition: [[0, 1], [1, 0], [1, 1]], // prettier-ignore
      fireBins: 2,
      heatBySequence: [],
      tokens: 10,
    };
    const html = renderToStaticMarkup(
      createElement(ClusterView, {
        clustering: c,
        mode: 'position',
        sequence: 0,
        width: 600,
        onOpenFeature: () => {},
      }),
    );
    expect(count(html, /<path d="M/g)).toBe(2);
    expect(html).toContain('data-testid="leaf-3"');
    expect(html).toContain('data-testid="leaf-7"');
    expect(html).toContain('data-rows="3" data-cols="2"');
    // Leaf order puts feature 3 (index 1) first: its row label comes before f7's.
    expect(html.indexOf('>f3<')).toBeLessThan(html.indexOf('>f7<'));
  });

  it('frontier: imported baselines are labelled as imported', () => {
    const html = renderToStaticMarkup(
      createElement(ScatterFrontier, {
        points: [{ id: 'r', label: 'run 1', color: '#fff', l0: 12, value: 0.9 }],
        references: REFERENCE_POINTS,
        yLabel: 'explained variance',
        width: 500,
      }),
    );
    expect(count(html, /class="an-point"/g)).toBe(1);
    expect(count(html, /\(imported: gemma-2-2b L12\)/g)).toBe(3);
  });

  it('frontier: the Pareto front keeps points no other beats on both L0 and the metric', () => {
    const pt = (id: string, l0: number, value: number) => ({ id, label: id, color: '#fff', l0, value });
    const f = paretoFront([
      pt('a', 10, 0.8),
      pt('b', 20, 0.7),
      pt('c', 5, 0.6),
      pt('d', 40, 0.95),
      pt('e', 10, 0.5),
    ]);
    expect(f.map((q) => q.id)).toEqual(['c', 'a', 'd']);
  });
});
