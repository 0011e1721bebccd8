import { describe, expect, it } from 'vitest';
import {
  buildChartModel,
  drawIndices,
  formatTick,
  nearestIndex,
  smoothEma,
} from '../../src/ui/charts/chartModel';

describe('smoothEma (TensorBoard debiased EMA)', () => {
  it('matches a hand-worked case', () => {
    // w = 0.5: acc1 = 0.5·2 = 1, /(1−0.5) = 2; acc2 = 0.5·1 + 0.5·4 = 2.5, /(1−0.25) = 3.333…;
    // acc3 = 0.5·2.5 + 0.5·0 = 1.25, /(1−0.125) = 1.428571…
    const s = smoothEma([2, 4, 0], 0.5);
    expect(s[0]).toBeCloseTo(2, 12);
    expect(s[1]).toBeCloseTo(10 / 3, 12);
    expect(s[2]).toBeCloseTo(1.25 / 0.875, 12);
  });
  it('is the identity at w = 0 and keeps a constant series constant at any w', () => {
    expect(smoothEma([1, 5, 3], 0)).toEqual([1, 5, 3]);
    for (const v of smoothEma([7, 7, 7, 7], 0.9)) expect(v).toBeCloseTo(7, 12);
  });
  it('skips non-finite values without poisoning later points', () => {
    const s = smoothEma([1, NaN, 1], 0.8);
    expect(Number.isNaN(s[1])).toBe(true);
    expect(s[2]).toBeCloseTo(1, 12);
  });
});

describe('nearestIndex', () => {
  it('finds the nearest x, clamping at the ends', () => {
    const x = [0, 10, 20, 30];
    expect(nearestIndex(x, -5)).toBe(0);
    expect(nearestIndex(x, 4)).toBe(0);
    expect(nearestIndex(x, 6)).toBe(1);
    expect(nearestIndex(x, 29)).toBe(3);
    expect(nearestIndex(x, 100)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe('buildChartModel', () => {
  const series = [{ id: 'a', label: 'a', color: '#fff', x: [0, 10, 20], y: [4, 2, 1] }];

  it('a near-constant series on a log axis gets tick labels that differ (BatchTopK L0 2 with one 2.0078)', () => {
    const y = [2, 2, 2, 2, 2, 2.0078125, 2, 2, 2];
    const s = [{ id: 'l0', label: 'L0', color: '#fff', x: y.map((_, i) => 5 * i + 5), y }];
    for (const logY of [false, true]) {
      const labels = buildChartModel(s, { width: 400, height: 180, logY }).yTicks.map((t) => t.label);
      expect(labels.length).toBeGreaterThan(1);
      expect(new Set(labels).size, `${logY}: ${labels.join(' ')}`).toBe(labels.length);
    }
    // Across decades the log axis keeps short labels.
    const wide = [{ id: 'w', label: 'w', color: '#fff', x: [0, 1, 2], y: [0.01, 1, 100] }];
    const labels = buildChartModel(wide, { width: 400, height: 180, logY: true }).yTicks.map((t) => t.label);
    expect(labels).toContain('1');
    expect(labels).toContain('100');
  });

  it('maps data to pixels: first point at the left, largest y at the top', () => {
    const m = buildChartModel(series, {
      width: 200,
      height: 100,
      margin: { top: 0, right: 0, bottom: 0, left: 0 },
    });
    expect(m.x(0)).toBe(0);
    expect(m.x(20)).toBe(200);
    // The linear y-domain is niced from [1, 4] to [1, 4] (already nice) → y(4) = 0, y(1) = 100.
    expect(m.y(4)).toBeCloseTo(0, 9);
    expect(m.y(1)).toBeCloseTo(100, 9);
    expect(m.paths[0].d).toBe('M0,0L100,66.667L200,100');
    expect(m.paths[0].rawD).toBeNull();
    expect(m.empty).toBe(false);
  });

  it('appending a point extends the x-domain and the path (charts grow)', () => {
    const opts = { width: 200, height: 100, margin: { top: 0, right: 0, bottom: 0, left: 0 } };
    const a = buildChartModel(series, opts);
    const b = buildChartModel([{ ...series[0], x: [0, 10, 20, 30], y: [4, 2, 1, 1] }], opts);
    expect(b.x.domain()).toEqual([0, 30]);
    expect(b.paths[0].d.split('L')).toHaveLength(a.paths[0].d.split('L').length + 1);
  });

  it('a shared x-domain lines charts up regardless of their own data', () => {
    const m = buildChartModel(series, {
      width: 100,
      height: 50,
      xDomain: [0, 40],
      margin: { top: 0, right: 0, bottom: 0, left: 0 },
    });
    expect(m.x.domain()).toEqual([0, 40]);
    expect(m.x(20)).toBe(50);
  });

  it('log scale drops non-positive values from the path and domain', () => {
    const m = buildChartModel([{ id: 'a', label: 'a', color: '#fff', x: [0, 1, 2, 3], y: [100, 0, 1, 10] }], {
      width: 300,
      height: 100,
      margin: { top: 0, right: 0, bottom: 0, left: 0 },
      logY: true,
    });
    expect(m.y.domain()).toEqual([1, 100]);
    // Three decades span 100 px: 10 sits halfway.
    expect(m.y(10)).toBeCloseTo(50, 9);
    // The 0 at x=1 breaks the line into two segments (two M commands).
    expect(m.paths[0].d.match(/M/g)).toHaveLength(2);
    expect(m.yTicks.map((t) => t.value)).toEqual(expect.arrayContaining([1, 10, 100]));
  });

  it('draws raw points faintly under the smoothed line when smoothing > 0', () => {
    const m = buildChartModel(series, { width: 200, height: 100, smoothing: 0.6 });
    expect(m.paths[0].rawD).not.toBeNull();
    expect(m.smoothed[0][0]).toBeCloseTo(4, 12);
    expect(m.paths[0].d).not.toBe(m.paths[0].rawD);
  });

  it('handles no data and a single point without NaN in the output', () => {
    const none = buildChartModel([], { width: 100, height: 50 });
    expect(none.empty).toBe(true);
    const one = buildChartModel([{ id: 'a', label: 'a', color: '#fff', x: [5], y: [3] }], {
      width: 100,
      height: 50,
    });
    expect(one.paths[0].d).not.toContain('NaN');
    // One step: centred on the axis, with whole-number ticks only.
    expect(one.x.domain()).toEqual([4, 6]);
    expect(one.xTicks.every((t) => Number.isInteger(t.value))).toBe(true);
    // A lone point gets a marker, since a one-point path draws nothing.
    expect(one.paths[0].dots).toHaveLength(1);
    expect(one.paths[0].dots[0].x).toBeCloseTo(one.x(5), 9);
    expect(buildChartModel(series, { width: 100, height: 50 }).paths[0].dots).toEqual([]);
    // markPoints: every drawable point is marked (a NaN is not).
    const marked = buildChartModel(
      [{ id: 'a', label: 'a', color: '#fff', x: [0, 0.1, 0.5], y: [1.2, NaN, 1.07] }],
      { width: 100, height: 50, markPoints: true },
    );
    expect(marked.paths[0].dots.map((d) => d.x)).toEqual([marked.x(0), marked.x(0.5)]);
    expect(one.yTicks.every((t) => Number.isFinite(t.pos))).toBe(true);
  });
});

describe('drawIndices (M4 decimation)', () => {
  const id = (v: number) => v;
  it('keeps every point when there are few per pixel', () => {
    expect(drawIndices([0, 1, 2], [1, 2, 3], id, 10)).toEqual([0, 1, 2]);
  });
  it('keeps first, min, max and last of each pixel column, in order', () => {
    // 1000 points over 10 px: 100 per column. Column 0 holds i = 0..99 with a spike at 37 and a dip at 60.
    const n = 1000;
    const sx = Array.from({ length: n }, (_, i) => i / 100);
    const sy = Array.from({ length: n }, (_, i) => (i === 37 ? 50 : i === 60 ? -50 : Math.sin(i)));
    const idx = drawIndices(sx, sy, id, 10);
    expect(idx.length).toBeLessThanOrEqual(40);
    expect(idx.slice(0, 4)).toEqual([0, 37, 60, 99]);
    expect(idx[idx.length - 1]).toBe(n - 1);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });
  it('keeps non-finite points so the line still breaks there', () => {
    const n = 100;
    const sx = Array.from({ length: n }, (_, i) => i / 50);
    const sy = Array.from({ length: n }, (_, i) => (i === 10 ? NaN : 1));
    expect(drawIndices(sx, sy, id, 2)).toContain(10);
  });
});

describe('formatTick', () => {
  it('writes compact labels', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(12000)).toBe('12k');
    expect(formatTick(2_500_000)).toBe('2.5M');
    expect(formatTick(0.04)).toBe('0.04');
    expect(formatTick(0.0003)).toBe('3e-4');
  });
  it('gives neighbouring ticks distinct labels using the tick spacing', () => {
    // Ticks of a flat learning rate 3e-4 padded by ±10 %: 2.8e-4, 2.9e-4, … must not all read 3e-4.
    const ticks = [2.8e-4, 2.9e-4, 3e-4, 3.1e-4, 3.2e-4];
    const labels = ticks.map((t) => formatTick(t, 1e-5));
    expect(labels).toEqual(['2.8e-4', '2.9e-4', '3e-4', '3.1e-4', '3.2e-4']);
    expect([32.6, 32.65, 32.7].map((t) => formatTick(t, 0.05))).toEqual(['32.60', '32.65', '32.70']);
    expect([10000, 12500, 15000].map((t) => formatTick(t, 2500))).toEqual(['10.0k', '12.5k', '15.0k']);
    expect(formatTick(40, 20)).toBe('40');
  });
  it('short charts get fewer y ticks', () => {
    const s = [{ id: 'a', label: 'a', color: '#fff', x: [0, 1], y: [0, 1] }];
    const short = buildChartModel(s, { width: 200, height: 60 });
    const tall = buildChartModel(s, { width: 200, height: 200 });
    expect(short.yTicks.length).toBeLessThan(tall.yTicks.length);
    expect(short.yTicks.length).toBeLessThanOrEqual(3);
  });
});
