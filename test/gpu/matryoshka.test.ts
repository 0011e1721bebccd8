// Matryoshka kernels (shaders/matryoshka_resid, _rowloss, _grad_f, _grad_wdec) vs their CPU twins
// (src/sae/twins/matryoshka.ts), element by element: three groups of uneven size, one group (plain
// L_recon), padding rows, d_sae not a multiple of the workgroup, workgroups of 4 and 64.
// Tolerances: every output is a float32 sum of at most max(m, N, d) = 40 products of O(1) values, so the
// rounding error is ≲ 40·6e-8·Σ|terms| ≈ 1e-5 for these sizes: atol 2e-5 + rtol 1e-4 passes a right
// kernel and fails a wrong group boundary or weight (errors ≥ 1e-2).
import { describe, it } from 'vitest';
import { runMatryoshka } from '../../src/sae/gpu/methodKernels';
import {
  matryoshkaGradFTwin,
  matryoshkaGradWdecTwin,
  matryoshkaResidTwin,
  matryoshkaRowLossTwin,
  type MatInputs,
} from '../../src/sae/twins/matryoshka';
import { Rng } from '../../src/data/rng';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const ATOL = 2e-5;
const RTOL = 1e-4;

function inputs(seed: number, ends: number[], weights: number[]): MatInputs {
  const rng = new Rng(seed);
  const N = 13,
    d = 7,
    m = ends[ends.length - 1];
  const valid = Array.from({ length: N }, (_, n) => (n === 4 || n === 12 ? 0 : 1));
  return {
    N,
    d,
    m,
    nValid: valid.reduce((s: number, v) => s + v, 0),
    ends,
    weights,
    x: Array.from({ length: N * d }, () => rng.normal()),
    f: Array.from({ length: N * m }, () => (rng.next() < 0.3 ? rng.next() * 2 : 0)),
    W_dec: Array.from({ length: m * d }, () => rng.normal() * 0.4),
    b_dec: Array.from({ length: d }, () => rng.normal() * 0.3),
    valid,
  };
}

describe('Matryoshka kernels = CPU twins', () => {
  const cases: [string, number[], number[]][] = [
    ['three groups', [5, 17, 40], [0.2, 0.3, 0.5]],
    ['one group (L_recon)', [40], [1]],
  ];
  for (const [name, ends, weights] of cases)
    for (const wg of [4, 64])
      it(`${name}, workgroup ${wg}`, async () => {
        const { device } = await getTestGpu();
        const a = inputs(ends.length * 10 + wg, ends, weights);
        const G = ends.length;
        const gpu = await runMatryoshka(device, a, wg);
        const tw = matryoshkaResidTwin(a);
        expectClose('resid', gpu.resid, tw.resid, ATOL, RTOL);
        expectClose('cgrad', gpu.cgrad, tw.cgrad, ATOL, RTOL);
        expectClose('rowLoss', gpu.rowLoss, matryoshkaRowLossTwin(tw.resid, G, a.N, a.d), ATOL, RTOL);
        expectClose('grad_f', gpu.gF, matryoshkaGradFTwin(a, tw.cgrad), ATOL, RTOL);
        expectClose('grad_wdec', gpu.gWdec, matryoshkaGradWdecTwin(a, tw.cgrad), ATOL, RTOL);
      });
});
