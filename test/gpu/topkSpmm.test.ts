// shaders/topk_masked_nt.wgsl and its _vec4 variant (A·Bᵀ where a mask is non-zero) vs maskedNtTwin and the
// dense product.
// shaders/topk_spmm.wgsl (C = A·B with A's zeros skipped) vs its float64 twin sparseGemmTwin, for the
// four shapes TopK training uses (decoder / ê, ∂W_dec, transposed ∂W_enc), both workgroup sizes, sizes
// that are not multiples of WG·CPI, several column chunks, offsets, bias and accumulate; and equal to the
// dense GEMM twin (skipping zeros changes nothing but the work). A NaN in A reaches C (fault detection).
// Tolerance: fp32 sums of ≤ 60 non-zero O(1) products in order: |error| ≲ 60·2⁻²⁴·Σ|a·b| ≈ 4e-6;
// atol 2e-5 + rtol 1e-5 as the GEMM tests; an indexing bug gives O(1) errors.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { createBufferWithData, readFloat32 } from '../../src/gpu/buffers';
import {
  MaskedNtOp,
  SparseGemmOp,
  spmmChunks,
  type MaskedShape,
  type SparseShape,
} from '../../src/sae/gpu/sparseGemm';
import { gemmTwin } from '../../src/sae/twins/gemm';
import { maskedNtTwin, sparseGemmTwin } from '../../src/sae/twins/topkSpmm';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

async function runSparse(
  wg: number,
  shape: SparseShape,
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  bias?: Float32Array,
): Promise<Float32Array> {
  const { device } = await getTestGpu();
  const A = createBufferWithData(device, 'test.A', a);
  const B = createBufferWithData(device, 'test.B', b);
  const C = createBufferWithData(device, 'test.C', c0);
  const bb = bias ? createBufferWithData(device, 'test.bias', bias) : undefined;
  const op = new SparseGemmOp(device, 'test.spmm', wg, shape, A, B, C, bb);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  op.record(pass);
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = await readFloat32(device, C);
  op.destroy();
  for (const x of [A, B, C, bb]) x?.destroy();
  return out;
}

/** [rows, m] with `k` non-zeros per row at random features (a TopK f), the rest exactly 0. */
function sparseRows(rows: number, m: number, k: number, rng: Rng): Float32Array {
  const out = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * m + rng.int(m)] = rng.uniform(-1, 2);
  return out;
}

const rand = (n: number, rng: Rng) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

/** The C elements a shape writes, in the twin's [rows, cols] order. */
function written(s: SparseShape, C: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let r = 0; r < s.rows; r++)
    for (let c = 0; c < s.cols; c++) out.push(C[(s.offC ?? 0) + r * s.sCr + c * (s.sCc ?? 1)]);
  return out;
}

describe('sparse products (topk_spmm) vs twin', () => {
  // [rows, m, d, k]: d below and above CPI (16) columns per invocation, not multiples of it; rows (and m
  // for ∂W_dec) below and above both workgroup sizes; k = 1 and k = m.
  const sizes: [number, number, number, number][] = [
    [37, 50, 13, 4],
    [9, 40, 300, 1],
    [20, 33, 257, 33],
    [3, 600, 7, 60],
  ];
  it('the sizes include one and several column chunks per row, full and partial', () => {
    expect([13, 300, 257, 7].map(spmmChunks)).toEqual([1, 19, 17, 1]);
  });
  for (const wg of [32, 256])
    for (const [rows, m, d, k] of sizes) {
      const rng = new Rng(rows * 1000 + m + wg, 3);
      const f = sparseRows(rows, m, k, rng);
      const W = rand(m * d, rng); // [m, d]
      const g = rand(rows * d, rng); // [rows, d]
      const bias = rand(d + 5, rng);

      it(`WG ${wg}, decoder f·W + b (${rows}×${m}·${m}×${d}, k ${k})`, async () => {
        // A block of features [5, m) of f against W's rows 5.., with accumulate over an existing C.
        const s: SparseShape = {
          rows,
          cols: d,
          K: m - 5,
          offA: 5,
          sAr: m,
          sAk: 1,
          offB: 5 * d,
          sBk: d,
          offC: 3,
          sCr: d,
          accumulate: true,
          offBias: 5,
        };
        const c0 = rand(rows * d + 3, rng);
        const gpu = await runSparse(wg, s, f, W, c0, bias);
        const want = sparseGemmTwin(s, f, W, c0, bias);
        expectClose('decoder', written(s, gpu), want, 2e-5, 1e-5);
        // The dense product is the same number (zeros add nothing).
        const dense = gemmTwin(
          {
            layout: 'NN',
            M: rows,
            N: d,
            K: m - 5,
            offA: 5,
            lda: m,
            offB: 5 * d,
            offC: 3,
            ldc: d,
            accumulate: true,
            offBias: 5,
          },
          f,
          W,
          c0,
          bias,
        );
        expectClose('decoder = dense', want, dense, 1e-12, 1e-12);
      });

      it(`WG ${wg}, ∂W_dec = fᵀ·g and transposed ∂W_enc (${m}×${rows}·${rows}×${d})`, async () => {
        const s: SparseShape = { rows: m, cols: d, K: rows, sAr: 1, sAk: m, sBk: d, sCr: d };
        const gpu = await runSparse(wg, s, f, g, new Float32Array(m * d).fill(7));
        expectClose('fᵀ·g', gpu, sparseGemmTwin(s, f, g, null), 2e-5, 1e-5);
        expectClose(
          'fᵀ·g = dense',
          gpu,
          gemmTwin({ layout: 'TN', M: m, N: d, K: rows, lda: m }, f, g, null),
          2e-5,
          1e-5,
        );
        // ∂W_enc layout: C[j·m + i] = Σ_n g[n, j]·f[n, i], i.e. C stored [d, m].
        const t: SparseShape = { ...s, sCr: 1, sCc: m };
        const gpuT = await runSparse(wg, t, f, g, new Float32Array(m * d));
        expectClose(
          'transposed',
          gpuT,
          gemmTwin({ layout: 'TN', M: d, N: m, K: rows, ldb: m }, g, f, null),
          2e-5,
          1e-5,
        );
      });
    }

  it('all-zero A writes exactly the bias (AuxK with no dead feature), NaN in A reaches C', async () => {
    const [rows, m, d] = [6, 20, 10];
    const s: SparseShape = { rows, cols: d, K: m, sAr: m, sAk: 1, sBk: d, sCr: d };
    const bias = rand(d, new Rng(1, 1));
    const W = rand(m * d, new Rng(2, 1));
    const zero = await runSparse(
      32,
      s,
      new Float32Array(rows * m),
      W,
      new Float32Array(rows * d).fill(9),
      bias,
    );
    expect(Array.from(zero)).toEqual(Array.from({ length: rows * d }, (_, i) => bias[i % d]));
    const a = new Float32Array(rows * m);
    a[2 * m + 4] = NaN;
    const nan = await runSparse(32, s, a, W, new Float32Array(rows * d));
    expect(Array.from(nan).map((v, i) => Number.isNaN(v) === (Math.floor(i / d) === 2))).not.toContain(false);
  });
});

/** Masked kernels that ran: both the scalar and the vec4 variant must be exercised. */
const maskedKernels = new Set<string>();

async function runMasked(
  wg: number,
  shape: MaskedShape,
  a: Float32Array,
  b: Float32Array,
  mask: Float32Array,
  c0: Float32Array,
): Promise<Float32Array> {
  const { device } = await getTestGpu();
  const bufs = [a, b, mask, c0].map((x, i) => createBufferWithData(device, `test.masked${i}`, x));
  const op = new MaskedNtOp(device, 'test.masked', wg, shape, bufs[0], bufs[1], bufs[2], bufs[3]);
  maskedKernels.add(op.kernel);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  op.record(pass);
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = await readFloat32(device, bufs[3]);
  op.destroy();
  for (const x of bufs) x.destroy();
  return out;
}

describe('masked products (topk_masked_nt) vs twin', () => {
  // [rows, m, d, k]; a feature block [f0, f0 + feats) of a row block starting at row0, as the trainer binds
  // them: C and the mask are [rows, m] buffers, A = g_x̂ rows from row0, B = the block's W_dec rows.
  const sizes: [number, number, number, number][] = [
    [37, 50, 13, 4],
    [9, 300, 33, 1],
    [20, 33, 7, 33],
    [16, 40, 64, 3], // d a multiple of 4: the vec4 variant
    [5, 70, 16, 70],
  ];
  for (const wg of [32, 256])
    for (const [rows, m, d, k] of sizes)
      it(`WG ${wg}, (${rows}×${d})·(${m}×${d})ᵀ masked by k ${k} per row`, async () => {
        const rng = new Rng(rows + m * 7 + wg, 5);
        const [row0, f0] = [3, 2];
        const feats = m - f0 - 1;
        const mask = sparseRows(rows, m, k, rng);
        const g = rand((row0 + rows) * d, rng);
        const W = rand(feats * d, rng);
        const s: MaskedShape = { rows, cols: feats, K: d, offA: row0 * d, offM: f0, offC: f0, ldc: m };
        const c0 = new Float32Array(rows * m).fill(5);
        const gpu = await runMasked(wg, s, g, W, mask, c0);
        const block = (C: ArrayLike<number>) =>
          Array.from({ length: rows * feats }, (_, e) => C[Math.floor(e / feats) * m + f0 + (e % feats)]);
        const want = maskedNtTwin(s, g, W, mask);
        expectClose('masked', block(gpu), want, 2e-5, 1e-5);
        // Where the mask is non-zero it is the dense NT product; elsewhere 0; outside the block untouched.
        const dense = gemmTwin({ layout: 'NT', M: rows, N: feats, K: d, offA: row0 * d }, g, W, null);
        const maskBlock = block(mask);
        expectClose(
          'masked = dense ⊙ mask',
          want,
          dense.map((v, e) => (maskBlock[e] !== 0 ? v : 0)),
          1e-12,
          1e-12,
        );
        const outside = Array.from(gpu).filter((_, i) => i % m < f0 || i % m >= f0 + feats);
        expect(outside.every((v) => v === 5)).toBe(true);
      });
  it('ran both the scalar and the vec4 kernel', () => {
    expect([...maskedKernels].sort()).toEqual(['masked_nt', 'masked_nt_vec4']);
  });
});
