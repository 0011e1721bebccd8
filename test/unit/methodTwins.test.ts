// The CPU twins of the issue-14 kernels reproduce the float64 references they stand for: Matryoshka
// (src/sae/twins/matryoshka.ts vs src/sae/reference/matryoshka.ts) and InfoNCE (twins/infonce.ts vs
// reference/infonce.ts), so GPU = twin (test/gpu/) chains to GPU = reference.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { infoNceLoss } from '../../src/sae/reference/infonce';
import { matryoshkaLoss } from '../../src/sae/reference/matryoshka';
import { infoNceTwin } from '../../src/sae/twins/infonce';
import {
  matryoshkaGradFTwin,
  matryoshkaBdecTwin,
  matryoshkaGradWdecTwin,
  matryoshkaResidTwin,
  matryoshkaRowLossTwin,
} from '../../src/sae/twins/matryoshka';
import { compareClose } from '../helpers/parity';

const close = (name: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
  const r = compareClose(name, a, b, 1e-12, 1e-10);
  expect(r.ok, r.message).toBe(true);
};

describe('Matryoshka twins = reference', () => {
  it('row losses, ∂f, ∂W_dec, ∂b_dec', () => {
    const rng = new Rng(9);
    const N = 9,
      d = 4,
      m = 12;
    const ends = [3, 7, 12],
      weights = [0.5, 0.25, 0.25];
    const valid = [1, 1, 1, 0, 1, 1, 1, 1, 0];
    const a = {
      N,
      d,
      m,
      nValid: 7,
      ends,
      weights,
      valid,
      x: Array.from({ length: N * d }, () => rng.normal()),
      f: Array.from({ length: N * m }, () => (rng.next() < 0.4 ? rng.next() : 0)),
      W_dec: Array.from({ length: m * d }, () => rng.normal()),
      b_dec: Array.from({ length: d }, () => rng.normal()),
    };
    const ref = matryoshkaLoss(a.x, a.f, a.W_dec, a.b_dec, N, d, m, valid, ends, weights);
    const { resid, cgrad } = matryoshkaResidTwin(a);
    const rows = matryoshkaRowLossTwin(resid, 3, N, d);
    const prefix = [0, 1, 2].map((g) => rows.slice(g * N, (g + 1) * N).reduce((s, v) => s + v, 0) / 7);
    close('prefix recon', prefix, ref.prefixRecon);
    close('∂f', matryoshkaGradFTwin(a, cgrad), ref.gF);
    close('∂W_dec', matryoshkaGradWdecTwin(a, cgrad), ref.gW_dec);
    close('∂b_dec', matryoshkaBdecTwin(cgrad, N, d), ref.gb_dec);
  });
});

describe('InfoNCE twin = reference', () => {
  for (const sim of ['dot', 'cosine'] as const)
    it(`loss and ∂f (${sim})`, () => {
      const rng = new Rng(12);
      const N = 10,
        m = 6,
        H = 4;
      const f = Array.from({ length: N * m }, () => (rng.next() < 0.6 ? rng.next() : 0));
      for (let h = 0; h < H; h++) f[3 * m + h] = 0;
      const cur = [1, 2, 3, 4, 6, 7, 8],
        prev = [0, 1, 2, 3, 5, 6, 7];
      const ref = infoNceLoss(f, m, H, cur, prev, 0.7, sim);
      const tw = infoNceTwin({ f, N, m, H, cur, prev, tau: 0.7, cosine: sim === 'cosine' });
      close('loss', [tw.loss], [ref.loss]);
      const g = new Float64Array(N * m);
      for (let n = 0; n < N; n++)
        for (let h = 0; h < H; h++) g[n * m + h] = tw.gCode[n * H + h] + tw.gCode[(N + n) * H + h];
      close('∂f', g, ref.gF);
    });
});
