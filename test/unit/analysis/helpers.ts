// Small builders for analysis tests: chunks from nested arrays, seeded random sparse activations.
import { Rng } from '../../../src/data/rng';
import type { EvalChunk } from '../../../src/analysis/chunk';

export function chunkOf(opts: {
  S: number;
  T: number;
  d?: number;
  f?: number[][];
  x?: number[][];
  xhat?: number[][];
  start?: number[];
  valid?: number[];
}): EvalChunk {
  const N = opts.S * opts.T;
  const m = opts.f ? opts.f[0].length : 1;
  const d = opts.d ?? (opts.x ? opts.x[0].length : 1);
  const start = new Uint8Array(N);
  for (let n = 0; n < N; n++) start[n] = n % opts.T === 0 ? 1 : 0;
  if (opts.start) opts.start.forEach((v, n) => (start[n] = v || (n % opts.T === 0 ? 1 : 0)));
  return {
    S: opts.S,
    T: opts.T,
    d,
    m,
    f: opts.f ? Float32Array.from(opts.f.flat()) : new Float32Array(N),
    x: opts.x ? Float32Array.from(opts.x.flat()) : new Float32Array(N * d),
    xhat: opts.xhat ? Float32Array.from(opts.xhat.flat()) : new Float32Array(N * d),
    start,
    valid: opts.valid ? Uint8Array.from(opts.valid) : new Uint8Array(N).fill(1),
  };
}

/** Random chunk: sparse non-negative f with persistence, random starts/padding, dense x and x̂. */
export function randomChunk(rng: Rng, S: number, T: number, d: number, m: number, pad = true): EvalChunk {
  const N = S * T;
  const f = new Float32Array(N * m);
  for (let s = 0; s < S; s++)
    for (let i = 0; i < m; i++) {
      let on = rng.next() < 0.2;
      for (let t = 0; t < T; t++) {
        if (rng.next() < (on ? 0.3 : 0.15)) on = !on;
        f[(s * T + t) * m + i] = on ? 0.1 + rng.next() : 0;
      }
    }
  const x = new Float32Array(N * d),
    xhat = new Float32Array(N * d);
  for (let k = 0; k < N * d; k++) {
    x[k] = 3 + rng.normal();
    xhat[k] = x[k] + 0.3 * rng.normal();
  }
  const start = new Uint8Array(N),
    valid = new Uint8Array(N).fill(1);
  for (let n = 0; n < N; n++) {
    start[n] = n % T === 0 || rng.next() < 0.05 ? 1 : 0;
    if (pad && n % T >= T - 2 && rng.next() < 0.5) valid[n] = 0;
  }
  return { S, T, d, m, f, x, xhat, start, valid };
}

/** Split a chunk into per-sequence chunks (whole sequences, as the batcher delivers them). */
export function splitBySequence(c: EvalChunk): EvalChunk[] {
  const out: EvalChunk[] = [];
  for (let s = 0; s < c.S; s++) {
    const a = s * c.T,
      b = a + c.T;
    out.push({
      ...c,
      S: 1,
      f: c.f.slice(a * c.m, b * c.m),
      x: c.x.slice(a * c.d, b * c.d),
      xhat: c.xhat.slice(a * c.d, b * c.d),
      start: c.start.slice(a, b),
      valid: c.valid.slice(a, b),
    });
  }
  return out;
}
