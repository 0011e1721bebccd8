// Cross-run feature matching (SPEC §6): greedy one-to-one by cosine, against a hand case and the
// textbook version (sort every pair, take the best free one) on random dictionaries.
import { describe, expect, it } from 'vitest';
import { greedyMatch } from '../../src/analysis/matching';
import { Rng } from '../../src/data/rng';

function unitRows(rng: Rng, m: number, d: number): Float32Array {
  const a = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (a[i * d + j] = rng.normal()) ** 2;
    for (let j = 0; j < d; j++) a[i * d + j] /= Math.sqrt(s);
  }
  return a;
}

function textbook(A: Float32Array, mA: number, B: Float32Array, mB: number, d: number) {
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < mA; i++)
    for (let j = 0; j < mB; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += A[i * d + k] * B[j * d + k];
      pairs.push([s, i, j]);
    }
  pairs.sort((p, q) => q[0] - p[0] || p[1] - q[1] || p[2] - q[2]);
  const ta = new Set<number>(), tb = new Set<number>(); // prettier-ignore
  const out: [number, number, number][] = [];
  for (const [c, i, j] of pairs) if (!ta.has(i) && !tb.has(j)) { ta.add(i); tb.add(j); out.push([i, j, c]); } // prettier-ignore
  return out;
}

describe('greedy feature matching', () => {
  it('takes the globally best pair first (hand case)', () => {
    // A = e1, e2; B0 = (0.9, 0.436), B1 = e1. cos(A0,B1) = 1 is the best pair, leaving A1–B0 = 0.436,
    // although A0's own best-ranked alternative B0 (0.9) would have been free.
    const A = Float32Array.from([1, 0, 0, 1]);
    const c = 0.9, s = Math.sqrt(1 - c * c); // prettier-ignore
    const B = Float32Array.from([c, s, 1, 0]);
    const r = greedyMatch(A, 2, B, 2, 2);
    expect(Array.from(r.a)).toEqual([0, 1]);
    expect(Array.from(r.b)).toEqual([1, 0]);
    expect(r.meanCos).toBeCloseTo((1 + s) / 2, 6);
  });

  it('equals the full-sort greedy on random dictionaries, including lists that run out', () => {
    const rng = new Rng(5);
    for (const [mA, mB, d] of [
      [40, 50, 3],
      [64, 30, 8],
      [100, 100, 2],
    ]) {
      // prettier-ignore
      const A = unitRows(rng, mA, d), B = unitRows(rng, mB, d); // prettier-ignore
      const r = greedyMatch(A, mA, B, mB, d);
      const ref = textbook(A, mA, B, mB, d);
      expect(r.a.length).toBe(ref.length);
      ref.forEach(([i, j, c], k) => {
        expect(r.a[k]).toBe(i);
        expect(r.b[k]).toBe(j);
        expect(r.cos[k]).toBeCloseTo(c, 5);
      });
    }
  });

  it('matches a dictionary with a permuted copy of itself perfectly', () => {
    const rng = new Rng(9);
    const A = unitRows(rng, 20, 16);
    const perm = Array.from({ length: 20 }, (_, i) => (i * 7) % 20);
    const B = new Float32Array(20 * 16);
    perm.forEach((p, i) => B.set(A.subarray(p * 16, p * 16 + 16), i * 16));
    const r = greedyMatch(A, 20, B, 20, 16);
    expect(r.meanCos).toBeCloseTo(1, 5);
    for (let k = 0; k < 20; k++) expect(perm[r.b[k]]).toBe(r.a[k]);
  });
});
