// Some features' activations over a stream of batches (issue 10): one forward pass per batch, the
// columns of the asked-for features kept with each position's validity, document start and token id.
// The app's inspector and exports (src/app/evaluationInspect.ts) and the CLI's `inspect` and
// `train --report` (src/cli/inspectCommand.ts) both collect through here, then build dashboards with
// src/analysis/featureDashboard.ts.
import type { ActivationBatch } from '../data/types';
import type { FeatureTokens } from './featureDashboard';

export interface CollectedFeatures {
  T: number;
  sequences: number;
  /** One per feature asked for, in that order (they share valid, start and ids). */
  columns: FeatureTokens[];
}

function concat<A extends Float32Array | Uint8Array | Int32Array>(parts: A[], make: (n: number) => A): A {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function collectFeatures(
  batches: AsyncIterable<ActivationBatch> | Iterable<ActivationBatch>,
  forward: (b: ActivationBatch) => Promise<{ f: Float32Array }>,
  m: number,
  features: number[],
  maxBatches = Infinity,
): Promise<CollectedFeatures> {
  for (const j of features)
    if (!Number.isInteger(j) || j < 0 || j >= m)
      throw new RangeError(`Feature ${j} does not exist: this SAE has features 0–${m - 1}.`);
  const cols: Float32Array[][] = features.map(() => []);
  const valids: Uint8Array[] = [],
    starts: Uint8Array[] = [],
    ids: Int32Array[] = [];
  let T = 0,
    hasIds = false,
    k = 0;
  for await (const b of batches) {
    if (k++ >= maxBatches) break;
    if (T && b.T !== T) throw new Error(`batches of ${b.T} and ${T} positions cannot be mixed`);
    T = b.T;
    const N = b.S * b.T;
    const { f } = await forward(b);
    if (f.length !== N * m) throw new Error(`forward gave ${f.length} activations for ${N} tokens × ${m}`);
    features.forEach((j, c) => {
      const v = new Float32Array(N);
      for (let n = 0; n < N; n++) v[n] = f[n * m + j];
      cols[c].push(v);
    });
    valids.push(b.valid);
    starts.push(b.start);
    hasIds ||= !!b.tokenIds;
    ids.push(b.tokenIds ?? new Int32Array(N).fill(-1));
  }
  const valid = concat(valids, (n) => new Uint8Array(n));
  const start = concat(starts, (n) => new Uint8Array(n));
  const tokenIds = hasIds ? concat(ids, (n) => new Int32Array(n)) : undefined;
  return {
    T,
    sequences: T ? valid.length / T : 0,
    columns: cols.map((parts) => ({
      values: concat(parts, (n) => new Float32Array(n)),
      valid,
      start,
      T,
      ids: tokenIds,
    })),
  };
}
