// Feature dashboards (issue 10) on a hand-worked example: two sequences of T = 6, a document start
// inside the first. Every number below is counted by hand in the comments.
import { describe, expect, it } from 'vitest';
import {
  buildFeatureDashboard,
  temporalBehaviour,
  type TokenLookup,
} from '../../../src/analysis/featureDashboard';
import { displayToken } from '../../../src/analysis/tokenDisplay';

// seq 0: 0 1 2 0 | 3 0   (| = document start at t 4)      seq 1: .5 0 0 0 0 4
const values = Float32Array.from([0, 1, 2, 0, 3, 0, 0.5, 0, 0, 0, 0, 4]);
const valid = new Uint8Array(12).fill(1);
const start = Uint8Array.from([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
const ids = Int32Array.from([0, 1, 2, 3, 0, 4, 0, 5, 6, 7, 10, 11]);
// Text known for ids < 10; id 0 is the special BOS.
const lookup: TokenLookup = {
  text: (id) => (id === 0 ? '<bos>' : ` w${id}`),
  known: (id) => id >= 0 && id < 10,
  special: (id) => id === 0,
};
const fv = { values, valid, start, T: 6, ids };

describe('feature dashboard', () => {
  it('temporal behaviour: stay-on, turn-on, runs cut by document starts', () => {
    const t = temporalBehaviour(fv, 4);
    // Pairs: seq 0 t 1, 2, 3, 5 (t 4 starts a document) and seq 1 t 1–5: 9.
    // Previous on at seq0 t2, t3, t5 and seq1 t1 (4), still on only at seq0 t2: stay-on 1/4.
    // Previous off at seq0 t1, seq1 t2–t5 (5), on at seq0 t1 and seq1 t5: 2/5.
    expect(t.pairs).toBe(9);
    expect(t.stayOn).toBeCloseTo(1 / 4, 12);
    expect(t.onFromOff).toBeCloseTo(2 / 5, 12);
    // Runs: seq0 t1–t2 (2), seq0 t4 (1), seq1 t0 (1), seq1 t5 (1): 5 active tokens / 4 runs.
    expect([t.runs, t.meanRunLength, t.maxRunLength]).toEqual([4, 1.25, 2]);
    expect(t.runLengthCounts).toEqual([3, 1, 0, 0]);
  });

  it('density, top contexts with suppression, quantile groups, token cells', () => {
    const d = buildFeatureDashboard(7, fv, lookup, {
      top: 3,
      before: 1,
      after: 1,
      intervals: 2,
      perInterval: 1,
      bins: 4,
    });
    expect([d.feature, d.tokens, d.fired]).toEqual([7, 12, 5]);
    expect(d.density).toBeCloseTo(5 / 12, 12);
    expect(d.meanActive).toBeCloseTo(10.5 / 5, 6);
    expect(d.max).toBe(4);
    // 4 at seq1 t5, then 3 at seq0 t4 (window t3–t5), then 2 at seq0 t2 (not inside t3–t5).
    expect(d.top.map((c) => [c.sequence, c.position, c.value, c.center])).toEqual([
      [1, 5, 4, 1],
      [0, 4, 3, 1],
      [0, 2, 2, 1],
    ]);
    // Contexts carry text, id and activation per token; ids without text are [id] and not known.
    expect(d.top[0].tokens).toEqual([
      { id: 10, text: '[10]', value: 0, known: false },
      { id: 11, text: '[11]', value: 4, known: false },
    ]);
    expect(d.top[1].tokens.map((c) => [c.text, c.special ?? false])).toEqual([
      [' w3', false],
      ['<bos>', true],
      [' w4', false],
    ]);
    // Intervals (2, 4] holds 4 and 3, (0, 2] holds 2, 1, 0.5; the middle one of each is sampled.
    expect(d.quantiles.map((q) => [q.lo, q.hi, q.count, q.share])).toEqual([
      [2, 4, 2, 0.4],
      [0, 2, 3, 0.6],
    ]);
    expect(d.quantiles.map((q) => q.contexts.map((c) => c.value))).toEqual([[3], [1]]);
    // Histogram of the non-zero values in 4 bins of [0, 4].
    expect(d.histogram.counts).toEqual([1, 1, 1, 2]);
  });

  it('a feature that never fires has empty groups and NaN temporal ratios', () => {
    const d = buildFeatureDashboard(0, { ...fv, values: new Float32Array(12) }, lookup);
    expect([d.top.length, d.quantiles.length, d.fired]).toEqual([0, 0, 0]);
    expect(Number.isNaN(d.temporal.stayOn)).toBe(true);
    expect(d.temporal.onFromOff).toBe(0);
  });

  it('padding and missing ids are cells of their own kind', () => {
    const v2 = Uint8Array.from(valid);
    v2[3] = 0;
    const ids2 = Int32Array.from(ids);
    ids2[1] = -1;
    const d = buildFeatureDashboard(0, { ...fv, valid: v2, ids: ids2 }, lookup, { before: 3, after: 0 });
    const c = d.top.find((x) => x.sequence === 0 && x.position === 4)!;
    expect(c.tokens.map((t) => t.text)).toEqual(['·', ' w2', '', '<bos>']);
    expect(c.tokens[2].pad).toBe(true);
  });
});

describe('token display', () => {
  it('makes whitespace visible and never shows an empty cell', () => {
    expect(displayToken(' a\nb\t')).toBe('␣a↵b⇥');
    expect(displayToken('')).toBe('∅');
    expect(displayToken('\u0001x\r\n')).toBe('\\x01x↵');
    expect(displayToken('héllo')).toBe('héllo');
  });
});
