// Each language-model kernel (shaders/lm_*.wgsl through src/lm/gpu/kernels.ts) against its float64 CPU
// twin (src/lm/twins/), on odd sizes so that every workgroup has a partial edge, in the style of
// test/gpu/gemm.test.ts: |gpu − cpu| ≤ atol + rtol·|cpu|.
// Tolerances: inputs are f32 and O(1). A single f32 rounding is ≤ 2⁻²⁴ ≈ 6e-8 relative (embedding: one
// add; rotary: two products and an add against an f32-rounded table). Row reductions over d ≤ 100 terms
// (norms, attention dot products over headDim) accumulate ≲ d·2⁻²⁴ ≈ 6e-6 relative; exp/inverseSqrt add a
// few ulp. An indexing or pairing bug gives O(0.1–1) errors, far outside every tolerance here.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { createBufferWithData, createStorageBuffer, readFloat32 } from '../../src/gpu/buffers';
import {
  addOp,
  attentionOp,
  centerOp,
  embedF16Op,
  embedOp,
  geluOp,
  normOp,
  ropeOp,
  swigluOp,
  type LmOp,
} from '../../src/lm/gpu/kernels';
import { gemmF16Op } from '../../src/lm/gpu/gemmF16';
import { packF16Rows, roundToF16 } from '../../src/lm/gpu/f16Weights';
import { gemmTwin } from '../../src/sae/twins/gemm';
import { centerResidual } from '../../src/lm/reference/forward';
import { attentionTwin } from '../../src/lm/twins/attention';
import { embedTwin } from '../../src/lm/twins/embed';
import { addTwin, geluNewTwin, swigluTwin } from '../../src/lm/twins/mlp';
import { layerNormTwin, rmsNormTwin } from '../../src/lm/twins/norm';
import { ropeTable, ropeTwin } from '../../src/lm/twins/rope';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const rng = new Rng(11, 3);
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.uniform(-1, 1));

async function gpu() {
  return (await getTestGpu()).device;
}
const buf = (device: GPUDevice, data: Float32Array | Uint32Array) =>
  createBufferWithData(device, 'test', data);

async function run(device: GPUDevice, ops: LmOp[], out: GPUBuffer): Promise<Float32Array> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const op of ops) op.record(pass);
  pass.end();
  device.queue.submit([enc.finish()]);
  const r = await readFloat32(device, out);
  for (const op of ops) op.destroy();
  return r;
}

describe('lm kernels vs CPU twins', () => {
  it('embedding gather with learned positions, over two vocabulary blocks', async () => {
    const device = await gpu();
    const [V, d, S, T] = [23, 13, 3, 5];
    const W_E = rand(V * d);
    const W_pos = rand(T * d);
    const ids = Uint32Array.from({ length: S * T }, () => rng.int(V));
    ids[0] = 0;
    ids[1] = V - 1;
    ids[2] = 9; // last row of block 0
    ids[3] = 10; // first row of block 1
    const x = createStorageBuffer(device, 'x', S * T * d * 4);
    const idsB = buf(device, ids);
    const blocks = [W_E.subarray(0, 10 * d), W_E.subarray(10 * d)].map((b) => buf(device, b.slice()));
    const posB = buf(device, W_pos);
    const s = { N: S * T, T, d };
    for (const withPos of [true, false]) {
      const ops = [
        embedOp(device, 'e0', { ...s, v0: 0, rows: 10 }, idsB, blocks[0], withPos ? posB : null, x),
        embedOp(device, 'e1', { ...s, v0: 10, rows: V - 10 }, idsB, blocks[1], withPos ? posB : null, x),
      ];
      expectClose(
        `embed pos=${withPos}`,
        await run(device, ops, x),
        embedTwin(ids, W_E, withPos ? W_pos : null, T, d),
        1e-7,
        1.2e-7,
      );
    }
  });

  it('embedding gather from f16 blocks stored transposed [d, ld] (odd rows: padded ld), with positions', async () => {
    const device = await gpu();
    const [V, d, S, T] = [23, 13, 3, 5];
    const W_E = rand(V * d);
    const W_pos = rand(T * d);
    const ids = Uint32Array.from({ length: S * T }, () => rng.int(V));
    ids.set([0, V - 1, 10, 11]);
    const x = createStorageBuffer(device, 'x', S * T * d * 4);
    const idsB = buf(device, ids);
    const posB = buf(device, W_pos);
    // Blocks of 11 and 12 vocabulary rows, each transposed to [d, rows] and packed (ld 12, 12).
    const ops = [
      [0, 11],
      [11, 12],
    ].map(([v0, rows], i) => {
      const t = new Float32Array(d * rows);
      for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) t[j * rows + r] = W_E[(v0 + r) * d + j];
      const { words, ld } = packF16Rows(t, d, rows);
      const B = createBufferWithData(device, 'W16', words);
      return embedF16Op(device, `e${i}`, { N: S * T, T, d, v0, rows, ld }, idsB, B, posB, x);
    });
    // One f32 add of two values, one of them exactly the rounded half: the f32 tolerance.
    expectClose(
      'embed f16',
      await run(device, ops, x),
      embedTwin(ids, roundToF16(W_E), W_pos, T, d),
      1e-7,
      1.2e-7,
    );
  });

  for (const d of [7, 64, 100])
    it(`LayerNorm and RMSNorm, d ${d} (fewer, equal and more columns than the workgroup)`, async () => {
      const device = await gpu();
      const N = 70; // more rows than one workgroup of the per-row path
      // Rows with an offset far from 0 check the two-pass variance (a one-pass E[x²] − μ² loses digits).
      const xv = Float32Array.from(rand(N * d), (v, i) => v + (Math.floor(i / d) % 3) * 4);
      const w = rand(d);
      const b = rand(d);
      const [x, wB, bB, y] = [
        buf(device, xv),
        buf(device, w),
        buf(device, b),
        createStorageBuffer(device, 'y', N * d * 4),
      ];
      // Both entry points: a workgroup per row (real GPUs) and a row per invocation (SwiftShader). The
      // per-row one sums sequentially: with rows offset by up to 8 over d ≤ 100 terms the f32 mean is off
      // by ≲ 8·d·2⁻²⁴/√d ≈ 5e-6, times 1/σ ≈ 1.7 and |w| ≤ 1 in the output: atol 1e-5.
      for (const perRow of [false, true]) {
        const how = perRow ? 'row per invocation' : 'workgroup per row';
        expectClose(
          `layernorm d=${d}, ${how}`,
          await run(device, [normOp(device, 'ln', N, d, 1e-5, x, wB, bB, y, perRow)], y),
          layerNormTwin(xv, w, b, N, d, 1e-5),
          1e-5,
          2e-5,
        );
        expectClose(
          `rmsnorm d=${d}, ${how}`,
          await run(device, [normOp(device, 'rms', N, d, 1e-6, x, wB, null, y, perRow)], y),
          rmsNormTwin(xv, w, N, d, 1e-6),
          1e-5,
          2e-5,
        );
      }
    });

  it('gelu_new, SwiGLU and the residual add, including large |x| (no overflow)', async () => {
    const device = await gpu();
    const n = 1000;
    const a = rand(n, 6);
    a.set([0, 1e-4, -1e-4, 30, -30, 100, -100, 0.5]);
    const b = rand(n, 3);
    const x = buf(device, a);
    expectClose('gelu_new', await run(device, [geluOp(device, 'g', n, x)], x), geluNewTwin(a), 1e-6, 1e-5);
    const gate = buf(device, a);
    const up = buf(device, b);
    expectClose(
      'swiglu',
      await run(device, [swigluOp(device, 's', n, gate, up)], up),
      swigluTwin(a, b),
      1e-6,
      1e-5,
    );
    const xr = buf(device, a);
    expectClose(
      'add',
      await run(device, [addOp(device, 'a', n, xr, up)], xr),
      addTwin(a, swigluTwin(a, b)),
      1e-6,
      1e-6,
    );
  });

  it('row centring (TransformerLens processing), rows offset far from 0', async () => {
    const device = await gpu();
    const [N, d] = [70, 37];
    const xv = Float32Array.from(rand(N * d), (v, i) => v + (Math.floor(i / d) % 5) * 3);
    const x = buf(device, xv);
    // Row sums reach ~480: each of the 37 f32 additions rounds by ≤ 480·2⁻²⁴ ≈ 2.9e-5, so the mean is off
    // by ≤ 37·2.9e-5/37 ≈ 2.9e-5 at worst (measured ≈ 3e-6): atol 3e-5. A missed row or a wrong d: O(1).
    expectClose(
      'center',
      await run(device, [centerOp(device, 'c', N, d, x)], x),
      centerResidual(xv, d),
      3e-5,
      1e-6,
    );
  });

  for (const style of ['half', 'interleaved'] as const)
    it(`rotary positions, ${style} pairs`, async () => {
      const device = await gpu();
      const [S, T, H, hd, theta] = [2, 7, 3, 8, 500];
      const xv = rand(S * T * H * hd);
      const { cos, sin } = ropeTable(T, hd, theta);
      const x = buf(device, xv);
      const op = ropeOp(
        device,
        'rope',
        { N: S * T, T, nHeads: H, headDim: hd, interleaved: style === 'interleaved' },
        buf(device, Float32Array.from(cos)),
        buf(device, Float32Array.from(sin)),
        x,
      );
      const got = await run(device, [op], x);
      const want = ropeTwin(xv, T, H, hd, theta, style);
      expectClose(`rope ${style}`, got, want, 1e-6, 1e-6);
      // Position 0 is the identity; the other style gives a different answer (the pairing matters).
      expectClose('t = 0 unchanged', got.subarray(0, H * hd), xv.subarray(0, H * hd), 1e-7, 0);
      const other = ropeTwin(xv, T, H, hd, theta, style === 'half' ? 'interleaved' : 'half');
      expect(Math.max(...want.map((v, i) => Math.abs(v - other[i])))).toBeGreaterThan(0.1);
    });

  for (const [H, nKv, scale] of [
    [4, 4, 1],
    [4, 2, 1],
    [6, 1, 1],
    [2, 1, 12], // peaky scores: the online softmax's rescaling must hold
  ])
    it(`causal attention, ${H} heads over ${nKv} kv heads, scores ×${scale}`, async () => {
      const device = await gpu();
      const [S, T, hd] = [3, 9, 8];
      const N = S * T;
      const q = rand(N * H * hd, scale);
      const k = rand(N * nKv * hd, scale);
      const v = rand(N * nKv * hd);
      const z = createStorageBuffer(device, 'z', N * H * hd * 4);
      const op = attentionOp(
        device,
        'attn',
        { S, T, nHeads: H, nKv, headDim: hd },
        buf(device, q),
        buf(device, k),
        buf(device, v),
        z,
      );
      const f64 = (a: Float32Array) => Float64Array.from(a);
      const want = attentionTwin(f64(q), f64(k), f64(v), S, T, H, nKv, hd);
      const got = await run(device, [op], z);
      expectClose(`attention H=${H} kv=${nKv}`, got, want, 2e-5, 2e-5);
      // Causality and independent sequences: the first token of every sequence copies its own v.
      for (let s = 0; s < S; s++)
        for (let h = 0; h < H; h++) {
          const g = Math.floor(h / (H / nKv));
          const row = s * T;
          expectClose(
            `z[${row}, head ${h}] = v[${row}, kv ${g}]`,
            got.subarray(row * H * hd + h * hd, row * H * hd + (h + 1) * hd),
            v.subarray(row * nKv * hd + g * hd, row * nKv * hd + (g + 1) * hd),
            1e-6,
            1e-6,
          );
        }
    });

  // f16 weights need no shader-f16 feature (unpack2x16float is core WGSL), so this runs on every adapter,
  // SwiftShader included. The twin multiplies by the f16-rounded B, so the tolerance is the f32 GEMM's
  // (test/gpu/gemm.test.ts: K ≤ 200 terms → 2e-5 + 1e-5 relative).
  for (const [M, N, K] of [
    [37, 70, 45],
    [5, 3, 200],
    [19, 77, 12],
    [16, 64, 32],
  ])
    it(`GEMM with f16-packed weights ${M}×${N}×${K}: plain, bias, accumulate, a column block of C`, async () => {
      const device = await gpu();
      const a = rand(M * K);
      const w = rand(K * N);
      const bias = rand(N);
      const { words, ld } = packF16Rows(w, K, N);
      expect(ld).toBe(N + (N % 2));
      const wr = roundToF16(w);
      const [A, B, bb] = [buf(device, a), createBufferWithData(device, 'B', words), buf(device, bias)];
      // C is [M, N + 9] and the product writes columns 4 … 4+N−1 (a column block, as the forward does).
      const ldc = N + 9;
      const c0 = rand(M * ldc);
      for (const [what, accumulate, withBias] of [
        ['plain', false, false],
        ['bias', false, true],
        ['+=', true, true],
      ] as const) {
        const C = buf(device, c0);
        const shape = { layout: 'NN', M, N, K, ldb: ld, offC: 4, ldc, accumulate } as const;
        const op = gemmF16Op(device, 'f16gemm', shape, A, B, C, withBias ? bb : undefined);
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        op.record(pass);
        pass.end();
        device.queue.submit([enc.finish()]);
        const out = await readFloat32(device, C);
        op.destroy();
        const block = Float32Array.from(
          { length: M * N },
          (_, e) => out[Math.floor(e / N) * ldc + 4 + (e % N)],
        );
        const twin = gemmTwin(
          { layout: 'NN', M, N, K, accumulate, offC: 4, ldc },
          a,
          wr,
          c0,
          withBias ? bias : undefined,
        );
        expectClose(`f16 gemm ${what}`, block, twin, 2e-5, 1e-5);
        // Columns outside the block are untouched.
        for (let i = 0; i < M; i++)
          for (const j of [0, 3, 4 + N, ldc - 1]) expect(out[i * ldc + j]).toBe(c0[i * ldc + j]);
      }
      // The rounding is real: the f32 product differs from the f16 one by more than the tolerance.
      const exact = gemmTwin({ layout: 'NN', M, N, K }, a, w, null);
      const half = gemmTwin({ layout: 'NN', M, N, K }, a, wr, null);
      expect(Math.max(...exact.map((v, i) => Math.abs(v - half[i])))).toBeGreaterThan(1e-4);
    });
});
