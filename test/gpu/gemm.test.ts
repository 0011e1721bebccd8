// Strided GEMM kernels (shaders/gemm_blocked*.wgsl, gemm_tiled.wgsl) vs their float64 twin, for the three
// layouts of the SAE step, both designs, sizes that are not multiples of any tile, bias and accumulate.
// Tolerance: fp32 accumulation over K ≤ 200 terms of O(1) products gives |error| ≲ K·2⁻²⁴·Σ|a·b| ≈ 1e-5;
// atol 2e-5 + rtol 1e-5 leaves a margin without hiding an indexing bug (which gives O(1) errors).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { createBufferWithData, readFloat32 } from '../../src/gpu/buffers';
import { GemmOp, type GemmDesign, type GemmLayout, type GemmShape } from '../../src/gpu/gemm';
import { gemmTwin } from '../../src/sae/twins/gemm';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

/** Kernels that ran, so the tests can check both blocked variants were exercised. */
const used = new Set<string>();

function rand(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

async function runGemm(
  design: GemmDesign,
  shape: GemmShape,
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  bias?: Float32Array,
) {
  const { device } = await getTestGpu();
  const A = createBufferWithData(device, 'test.A', a);
  const B = createBufferWithData(device, 'test.B', b);
  const C = createBufferWithData(device, 'test.C', c0);
  const bb = bias ? createBufferWithData(device, 'test.bias', bias) : undefined;
  const op = new GemmOp(device, 'test.gemm', design, shape, A, B, C, bb);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  op.record(pass);
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = await readFloat32(device, C);
  used.add(op.kernel);
  op.destroy();
  for (const x of [A, B, C, bb]) x?.destroy();
  return out;
}

const stored = (layout: GemmLayout, M: number, N: number, K: number) => ({
  a: M * K, // NN/NT: [M, K]; TN: [K, M] — same count
  b: K * N,
  layout,
});

describe('GEMM kernels vs twin', () => {
  const cases: [number, number, number][] = [
    [37, 70, 45],
    [16, 64, 32],
    [5, 3, 200],
    [130, 9, 1],
    [19, 77, 12], // K % 4 = 0 with edges: the vec4 variant of 'blocked' for NN/NT
    [13, 24, 7], // N % 8 = 0, M with an edge, odd K: B read as vec4 along n for TN
  ];
  for (const design of ['blocked', 'tiled'] as GemmDesign[])
    for (const layout of ['NN', 'TN', 'NT'] as GemmLayout[])
      it(`${design} ${layout}: plain, with bias, accumulating`, async () => {
        used.clear();
        const rng = new Rng(3, 1);
        for (const [M, N, K] of cases) {
          const s = stored(layout, M, N, K);
          const a = rand(s.a, rng);
          const b = rand(s.b, rng);
          const c0 = rand(M * N, rng);
          const bias = rand(N, rng);
          const plain: GemmShape = { layout, M, N, K };
          expectClose(
            `${design} ${layout} ${M}×${N}×${K}`,
            await runGemm(design, plain, a, b, c0),
            gemmTwin(plain, a, b, c0),
            2e-5,
            1e-5,
          );
          expectClose(
            `${design} ${layout} ${M}×${N}×${K} +bias`,
            await runGemm(design, plain, a, b, c0, bias),
            gemmTwin(plain, a, b, c0, bias),
            2e-5,
            1e-5,
          );
          const acc: GemmShape = { ...plain, accumulate: true };
          expectClose(
            `${design} ${layout} ${M}×${N}×${K} +=`,
            await runGemm(design, acc, a, b, c0),
            gemmTwin(acc, a, b, c0),
            2e-5,
            1e-5,
          );
        }
        // The vec4 variants ran where the layout allows them: B contiguous along n with N % 8 = 0 (NN,
        // TN); A and B contiguous along k (NT); A alone contiguous along k (NN with N % 8 ≠ 0).
        const want = {
          tiled: { NN: ['tiled'], TN: ['tiled'], NT: ['tiled'] },
          blocked: {
            NN: ['blocked', 'blocked_bvec4', 'blocked_vec4'],
            TN: ['blocked', 'blocked_bvec4'],
            NT: ['blocked', 'blocked_kvec4'],
          },
        }[design][layout];
        expect([...used].sort()).toEqual(want);
      });

  it('offsets and leading dimensions address a block inside larger buffers (chunked operands)', async () => {
    const rng = new Rng(4, 1);
    // C[2:2+M, 3:3+N] of a 20×30 buffer = A-block · B-block, A stored 12×25 from offset 7, B 25-wide.
    const M = 9,
      N = 11,
      K = 10;
    const a = rand(7 + M * 25, rng);
    const b = rand(5 + K * 25, rng);
    const c0 = rand(20 * 30, rng);
    for (const [design, offA, lda, k] of [
      ['blocked', 7, 25, K],
      ['blocked', 8, 24, 8], // offA, lda and K multiples of 4: the vec4 kernel
      ['tiled', 7, 25, K],
    ] as [GemmDesign, number, number, number][]) {
      const shape: GemmShape = {
        layout: 'NN',
        M,
        N,
        K: k,
        offA,
        lda,
        offB: 5,
        ldb: 25,
        offC: 2 * 30 + 3,
        ldc: 30,
      };
      const out = await runGemm(design, shape, a, b, c0);
      const twin = gemmTwin(shape, a, b, c0);
      const block = new Float32Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) block[i * N + j] = out[2 * 30 + 3 + i * 30 + j];
      expectClose(`${design} lda=${lda} block`, block, twin, 2e-5, 1e-5);
      // Outside the block nothing changed.
      const outside: number[] = [];
      const before: number[] = [];
      for (let i = 0; i < 20; i++)
        for (let j = 0; j < 30; j++)
          if (!(i >= 2 && i < 2 + M && j >= 3 && j < 3 + N)) {
            outside.push(out[i * 30 + j]);
            before.push(c0[i * 30 + j]);
          }
      expectClose(`${design} outside`, outside, before, 0, 0);
    }
  });
});
