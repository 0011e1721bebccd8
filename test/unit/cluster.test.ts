// Temporal clustering (SPEC §6): UPGMA against the textbook example, against an independent naive
// O(n³) average linkage on random data, correlation against a direct Pearson, and the whole pipeline
// on traces with planted groups.
import { describe, expect, it } from 'vitest';
import { clusterTraces, correlation, mostVariable } from '../../src/analysis/clustering';
import { leafOrder, upgma } from '../../src/analysis/upgma';
import { Rng } from '../../src/data/rng';

describe('UPGMA', () => {
  it('reproduces the textbook five-point example (Wikipedia "UPGMA", 5S rRNA distances)', () => {
    const M = [
      [0, 17, 21, 31, 23],
      [17, 0, 30, 34, 21],
      [21, 30, 0, 28, 39],
      [31, 34, 28, 0, 43],
      [23, 21, 39, 43, 0],
    ];
    const L = upgma(Float64Array.from(M.flat()), 5);
    // a,b at 17 → 5; (a,b) with e at (23 + 21)/2 = 22 → 6; c,d at 28 → 7; then 33.
    expect(Array.from(L.a)).toEqual([0, 4, 2, 6]);
    expect(Array.from(L.b)).toEqual([1, 5, 3, 7]);
    expect(Array.from(L.dist)).toEqual([17, 22, 28, 33]);
    expect(Array.from(L.size)).toEqual([2, 3, 2, 5]);
    expect(Array.from(leafOrder(L))).toEqual([4, 0, 1, 2, 3]);
  });

  /** Naive average linkage: repeatedly merge the two clusters with the smallest mean pairwise distance. */
  function naive(D: Float64Array, n: number) {
    let clusters = Array.from({ length: n }, (_, i) => [i]);
    const merges: { members: string; dist: number }[] = [];
    while (clusters.length > 1) {
      let best = Infinity, bi = 0, bj = 1; // prettier-ignore
      for (let i = 0; i < clusters.length; i++)
        for (let j = i + 1; j < clusters.length; j++) {
          let s = 0;
          for (const p of clusters[i]) for (const q of clusters[j]) s += D[p * n + q];
          const v = s / (clusters[i].length * clusters[j].length);
          if (v < best) { best = v; bi = i; bj = j; } // prettier-ignore
        }
      const merged = [...clusters[bi], ...clusters[bj]].sort((a, b) => a - b);
      merges.push({ members: merged.join(','), dist: best });
      clusters = clusters.filter((_, k) => k !== bi && k !== bj).concat([merged]);
    }
    return merges;
  }

  it('agrees with a naive O(n³) implementation on random distances', () => {
    const rng = new Rng(21);
    for (const n of [2, 3, 17, 60]) {
      const pts = Array.from({ length: n }, () => [rng.normal(), rng.normal(), rng.normal()]);
      const D = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) D[i * n + j] = Math.hypot(...pts[i].map((v, k) => v - pts[j][k])); // prettier-ignore
      const L = upgma(D, n);
      const members: number[][] = Array.from({ length: n }, (_, i) => [i]);
      const got = Array.from(L.dist, (dist, r) => {
        const mem = [...members[L.a[r]], ...members[L.b[r]]].sort((a, b) => a - b);
        members.push(mem);
        expect(L.size[r]).toBe(mem.length);
        return { members: mem.join(','), dist };
      });
      const ref = naive(D, n);
      expect(got.map((g) => g.members)).toEqual(ref.map((r) => r.members));
      got.forEach((g, k) => expect(g.dist).toBeCloseTo(ref[k].dist, 10));
      const order = Array.from(leafOrder(L));
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });
});

describe('correlation', () => {
  function pearson(a: ArrayLike<number>, b: ArrayLike<number>) {
    const n = a.length;
    let ma = 0, mb = 0; // prettier-ignore
    for (let k = 0; k < n; k++) { ma += a[k] / n; mb += b[k] / n; } // prettier-ignore
    let c = 0, va = 0, vb = 0; // prettier-ignore
    for (let k = 0; k < n; k++) { c += (a[k] - ma) * (b[k] - mb); va += (a[k] - ma) ** 2; vb += (b[k] - mb) ** 2; } // prettier-ignore
    return c / Math.sqrt(va * vb);
  }
  it('matches a direct Pearson on the sparse and the dense path, K not a multiple of 4', () => {
    const rng = new Rng(4);
    for (const density of [0.05, 1]) {
      const K = 7, N = 500; // prettier-ignore
      const Z = new Float32Array(K * N);
      for (let k = 0; k < Z.length; k++) Z[k] = rng.next() < density ? rng.next() * 3 : 0;
      const C = correlation(Z, K, N);
      for (let i = 0; i < K; i++)
        for (let j = 0; j < K; j++) {
          const ref = i === j ? 1 : pearson(Z.subarray(i * N, i * N + N), Z.subarray(j * N, j * N + N));
          expect(C[i * K + j]).toBeCloseTo(ref, 6);
        }
    }
  });
  it('gives a constant trace correlation 0 with everything else', () => {
    const C = correlation(Float32Array.from([1, 1, 1, 1, 0, 1, 0, 2]), 2, 4);
    expect(Array.from(C)).toEqual([1, 0, 0, 1]);
  });
});

describe('temporal clustering pipeline', () => {
  it('picks the most variable features and groups features that fire together', () => {
    expect(Array.from(mostVariable([0.5, 0, 2, 0.5, 1], 3))).toEqual([2, 4, 0]);
    // Features 0,2,4 follow one hidden on/off process, 1,3 another, 5 a third.
    const rng = new Rng(8);
    const N = 2000, K = 6; // prettier-ignore
    const Z = new Float32Array(K * N);
    const g = [0, 1, 0, 1, 0, 2];
    const on = [false, false, false];
    for (let t = 0; t < N; t++) {
      for (let h = 0; h < 3; h++) if (rng.next() < 0.1) on[h] = !on[h];
      for (let i = 0; i < K; i++) Z[i * N + t] = on[g[i]] ? 1 + 0.2 * rng.next() : 0;
    }
    const r = clusterTraces(Z, Int32Array.from([10, 11, 12, 13, 14, 15]), N);
    // The three within-group merges ({0,2,4} and {1,3}) come first, at small distance; the two that
    // join groups come last, near 1 − corr of independent processes.
    const order = Array.from(r.order, (k) => g[k]);
    const runs = order.filter((v, k) => k === 0 || v !== order[k - 1]);
    expect(runs.length).toBe(3);
    expect(r.linkage.dist[2]).toBeLessThan(0.2);
    expect(r.linkage.dist[3]).toBeGreaterThan(0.5);
  });
});
