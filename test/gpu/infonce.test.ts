// InfoNCE kernels (shaders/infonce_norms, _logits, _lse, _softmax, _grad, _add) vs their CPU twin (src/sae/twins/
// infonce.ts): 'dot' (the T-SAE code) and 'cosine' with τ 0.5, rows shared by two pairs (a token is the
// current of one pair and the previous of the next), a row whose high-level code is all zero, padding
// rows in no pair, workgroups of 4 and 64.
// Tolerances: logits are float32 dot products of H = 6 terms; lse adds P = 9 exponentials; a gradient
// entry sums P products of softmax weights ≤ 1 and O(1) codes. The rounding error is ≲ 1e-6 relative;
// atol 2e-6 + rtol 2e-5 passes a right kernel and fails a swapped row/column softmax (errors ≥ 1e-2).
import { describe, it, expect } from 'vitest';
import { runInfoNce } from '../../src/sae/gpu/methodKernels';
import { infoNceAddTwin, infoNceTwin, type NceInputs } from '../../src/sae/twins/infonce';
import { Rng } from '../../src/data/rng';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const ATOL = 2e-6;
const RTOL = 2e-5;

function inputs(seed: number, cosine: boolean): NceInputs {
  const rng = new Rng(seed);
  const N = 14,
    m = 9,
    H = 6;
  const f = Array.from({ length: N * m }, () => (rng.next() < 0.6 ? rng.next() * 1.5 : 0));
  for (let h = 0; h < H; h++) f[5 * m + h] = 0; // row 5: no high-level feature active
  // Two sequences of 7 rows; rows 6 and 13 are padding (in no pair).
  const cur = [1, 2, 3, 4, 5, 8, 9, 10, 11],
    prev = [0, 1, 2, 3, 4, 7, 8, 9, 10];
  return { f, N, m, H, cur, prev, tau: 0.5, cosine };
}

describe('InfoNCE kernels = CPU twin', () => {
  for (const cosine of [false, true])
    for (const wg of [4, 64])
      it(`${cosine ? 'cosine' : 'dot'}, workgroup ${wg}`, async () => {
        const { device } = await getTestGpu();
        const a = inputs(cosine ? 3 : 4, cosine);
        const g0 = Array.from({ length: a.N * a.m }, (_, i) => Math.sin(i));
        const gpu = await runInfoNce(device, a, wg, { g: g0, coef: 0.3 });
        const tw = infoNceTwin(a);
        expectClose('norms', gpu.norms, tw.norms, ATOL, RTOL);
        expectClose('logits', gpu.logits, tw.logits, ATOL, RTOL);
        expectClose('lse', gpu.lse, tw.lse, ATOL, RTOL);
        expectClose('loss', [gpu.loss], [tw.loss], ATOL, RTOL);
        expectClose('gmat', gpu.gmat, tw.gmat, ATOL, RTOL);
        expectClose('g_code', gpu.gCode, tw.gCode, ATOL, RTOL);
        // infonce_add on the GPU's own g_code: g + 0.3·(both sides), only the first H columns move.
        expectClose('add', gpu.gAdded, infoNceAddTwin(g0, gpu.gCode, a.N, a.m, a.H, 0.3), 1e-7, 1e-6);
        expect(tw.loss).toBeGreaterThan(0);
      });
});
