// Timing of the temporal clustering for the bench (H3's scripts/bench.ts calls benchClustering()).
// Traces are seeded synthetic SAE-like activations: each feature an on/off Markov chain (firing
// `density` of the time on average, runs of mean length `meanRun`) with magnitudes in [0.5, 1.5).
// density 1 gives fully dense traces (the worst case: the 4×4 blocked dense product).
import { Rng } from '../data/rng';
import { clusterTraces } from './clustering';

export interface ClusteringBenchResult {
  K: number;
  N: number;
  density: number;
  /** Wall time of correlation + linkage + leaf order, milliseconds (best of `repeats`). */
  ms: number;
}

export function makeBenchTraces(K: number, N: number, density: number, seed = 1, meanRun = 4): Float32Array {
  const rng = new Rng(seed);
  const Z = new Float32Array(K * N);
  const pOff = 1 / meanRun;
  const pOn = density >= 1 ? 1 : (density * pOff) / (1 - density);
  for (let i = 0; i < K; i++) {
    let on = rng.next() < density;
    for (let t = 0; t < N; t++) {
      if (density < 1) on = on ? rng.next() >= pOff : rng.next() < pOn;
      else on = true;
      if (on) Z[i * N + t] = 0.5 + rng.next();
    }
  }
  return Z;
}

export function benchClustering(
  opts: { K?: number; N?: number; density?: number; repeats?: number } = {},
): ClusteringBenchResult {
  const K = opts.K ?? 256,
    N = opts.N ?? 65_536,
    density = opts.density ?? 0.05;
  const Z = makeBenchTraces(K, N, density);
  const features = Int32Array.from({ length: K }, (_, i) => i);
  let best = Infinity;
  for (let r = 0; r < (opts.repeats ?? 3); r++) {
    const t0 = performance.now();
    clusterTraces(Z, features, N);
    best = Math.min(best, performance.now() - t0);
  }
  return { K, N, density, ms: best };
}
