// The CPU twins of the issue-14 kernels reproduce the float64 references they stand for: Matryoshka
// (src/sae/twins/matryoshka.ts vs src/sae/reference/matryoshka.ts) and InfoNCE (twins/infonce.ts vs
// reference/infonce.ts), so GPU = twin (test/gpu/) chains to GPU = reference.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { matryoshkaLoss } from '../../src/sae/reference/matryoshka';
import {
  matryoshkaGradFTwin,
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
    const gw = matryoshkaGradWdecTwin(a, cgrad);
    close('∂W_dec', gw.slice(0, m * d), ref.gW_dec);
    close('∂b_dec', gw.slice(m * d), ref.gb_dec);
  });
});
