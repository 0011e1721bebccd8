// The bench target of issue 6: clustering 256 features over 64k tokens in under a second on these CPUs.
import { describe, expect, it } from 'vitest';
import { benchClustering, makeBenchTraces } from '../../src/analysis/clusteringBench';

describe('clustering speed', () => {
  it('256 features × 65 536 tokens of SAE-like traces (5 % firing) in < 1 s', () => {
    const r = benchClustering({ K: 256, N: 65_536, density: 0.05, repeats: 2 });
    console.log(`clustering 256×65536 at 5 % density: ${r.ms.toFixed(0)} ms`);
    expect(r.ms).toBeLessThan(1000);
  });
  it('bench traces have the requested firing density', () => {
    const Z = makeBenchTraces(16, 20_000, 0.1);
    const fired = Z.reduce((s, v) => s + (v > 0 ? 1 : 0), 0) / Z.length;
    expect(fired).toBeGreaterThan(0.08);
    expect(fired).toBeLessThan(0.12);
  });
});
