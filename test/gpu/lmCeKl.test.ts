// Kernel parity of shaders/lm_ce_kl.wgsl (via CeKlKernel, src/lm/gpu/lossRecovered.ts) against its float64
// twin ceKlChunkTwin (src/lm/twins/ceKl.ts) on the same float32 logits, and the chunked head
// (LossRecoveredHead: unembedding GEMMs + the fold) against TokenLossStream on float64 logits, with a
// 50k vocabulary and every GPU buffer's size measured.
// Tolerances: the running maxima are maxima of the same f32 values (exact). The sums s and a are f32
// sums of up to `cols` terms made with WGSL's exp (error ≤ 3 + 2|x| ULP, |x| ≤ the logit spread ≈ 30 here,
// so ≤ 63·2⁻²⁴ ≈ 4e-6 relative per term), summed sequentially per lane (SwiftShader's shape: up to
// 100 terms here, ≤ 100·2⁻²⁴ = 6e-6 relative): rtol 3e-5. CE = lse − z[target] carries the relative
// error of s as an absolute one (atol 3e-5). KL = a/s_c + lse_n − lse_c is a difference of two
// lse ≈ 10, so its error is absolute, ≈ 2·2⁻²⁴·10 plus the s errors: atol 5e-5.
// For the head, logits are f32 GEMMs over K = 16 (≤ 16·2⁻²⁴·Σ|h·w| ≈ 1e-5 absolute), and each lane of
// SwiftShader sums up to 8192 terms: CE atol 2e-4, KL atol 2e-4 (measured: ≤ 4e-6 CE, ≤ 1.7e-5 KL on SwiftShader).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { createBufferWithData, createStorageBuffer, readFloat32 } from '../../src/gpu/buffers';
import {
  ceKlShape,
  CeKlKernel,
  LossRecoveredHead,
  uploadUnembedding,
  type CeKlShape,
} from '../../src/lm/gpu/lossRecovered';
import { TokenLossStream } from '../../src/lm/lossRecovered';
import { CE_KL_STATE, ceKlChunkTwin, ceKlFinish, NO_TARGET } from '../../src/lm/twins/ceKl';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const SHAPES: CeKlShape[] = [ceKlShape(true), ceKlShape(false), { WG: 32, ROWS: 4 }];

/** Random logits [rows, ld] with a per-row offset and spread, padding columns set to a huge value. */
function logits(rng: Rng, rows: number, ld: number, cols: number, off: number): Float32Array {
  const z = new Float32Array(off + rows * ld).fill(1e30);
  for (let n = 0; n < rows; n++) {
    const shift = 40 * rng.normal();
    const spread = 0.2 + 4 * rng.uniform(0, 1);
    for (let j = 0; j < cols; j++) z[off + n * ld + j] = shift + spread * rng.normal();
  }
  return z;
}

describe('lm_ce_kl.wgsl = ceKlChunkTwin', () => {
  for (const shape of SHAPES)
    it(`WG ${shape.WG} × ROWS ${shape.ROWS}: 70 tokens, three chunks with row strides, offsets and targets`, async () => {
      const { device } = await getTestGpu();
      const rng = new Rng(41, 3);
      const N = 70; // not a multiple of 64 or 4: partial workgroups
      // Chunks of 37, 100 and 1 columns; row strides wider than the chunk; rows start at an offset.
      const plan = [
        { cols: 37, ld: 40, v0: 0, off: 3 },
        { cols: 100, ld: 100, v0: 37, off: 0 },
        { cols: 1, ld: 5, v0: 137, off: 7 },
      ];
      const V = 138;
      const targets = Uint32Array.from({ length: N }, (_, n) => (n % 9 === 8 ? NO_TARGET : rng.int(V)));
      targets[0] = 137; // in the one-column chunk
      targets[1] = 0;
      const data = plan.map((c) => {
        const zc = logits(rng, N, c.ld, c.cols, c.off);
        // New logits: clean plus noise, except some rows far away (an ablation-like change).
        const zn = zc.slice();
        for (let n = 0; n < N; n++)
          for (let j = 0; j < c.cols; j++)
            zn[c.off + n * c.ld + j] += n % 5 === 0 ? 8 * rng.normal() : 0.3 * rng.normal();
        return { zc, zn };
      });
      const state = createStorageBuffer(device, 'test.ceKl.state', N * CE_KL_STATE * 4);
      const tBuf = createBufferWithData(device, 'test.ceKl.targets', targets);
      const twin = new Float64Array(N * CE_KL_STATE);
      for (const [k, c] of plan.entries()) {
        const zc = createBufferWithData(device, 'test.ceKl.zc', data[k].zc);
        const zn = createBufferWithData(device, 'test.ceKl.zn', data[k].zn);
        const chunk = { rows: N, cols: c.cols, ld: c.ld, v0: c.v0, off_c: c.off, off_n: c.off };
        const kern = new CeKlKernel(device, 'test.ceKl', [chunk], { zc, zn, targets: tBuf, state }, shape);
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        kern.record(pass, 0);
        pass.end();
        device.queue.submit([enc.finish()]);
        // The twin reads the same f32 values (its offset is applied by slicing).
        ceKlChunkTwin(twin, data[k].zc.subarray(c.off), data[k].zn.subarray(c.off), targets, chunk);
        const got = await readFloat32(device, state);
        const col = (a: ArrayLike<number>, i: number) =>
          Array.from({ length: N }, (_, n) => a[n * CE_KL_STATE + i]);
        expect(col(got, 0), `chunk ${k} m_c`).toEqual(col(twin, 0).map(Math.fround));
        expect(col(got, 2), `chunk ${k} m_n`).toEqual(col(twin, 2).map(Math.fround));
        for (const [i, name] of [
          [1, 's_c'],
          [3, 's_n'],
        ] as const)
          expectClose(`chunk ${k} ${name}`, col(got, i), col(twin, i), 0, 3e-5);
        expectClose(`chunk ${k} a`, col(got, 4), col(twin, 4), 1e-5, 3e-5);
        // Target logits are copies.
        expect(col(got, 5)).toEqual(col(twin, 5).map(Math.fround));
        expect(col(got, 6)).toEqual(col(twin, 6).map(Math.fround));
        kern.destroy();
        zc.destroy();
        zn.destroy();
      }
      const g = ceKlFinish(await readFloat32(device, state), targets, N);
      const w = ceKlFinish(twin, targets, N);
      const has = (a: Float64Array) => Array.from(a).filter((_, n) => targets[n] !== NO_TARGET);
      expectClose('CE clean', has(g.ceClean), has(w.ceClean), 3e-5, 0);
      expectClose('CE new', has(g.ceNew), has(w.ceNew), 3e-5, 0);
      expectClose('KL', g.kl, w.kl, 5e-5, 0);
      expect(g.ceClean.filter((_, n) => targets[n] === NO_TARGET).every(Number.isNaN)).toBe(true);
      state.destroy();
      tBuf.destroy();
    });

  it('identical clean and new logits: KL exactly 0 and CE_new exactly CE_clean (an identity SAE)', async () => {
    const { device } = await getTestGpu();
    const rng = new Rng(42, 3);
    const N = 20;
    const V = 300;
    const z = logits(rng, N, V, V, 0);
    const targets = Uint32Array.from({ length: N }, () => rng.int(V));
    for (const shape of SHAPES) {
      const zb = createBufferWithData(device, 'test.ceKl.z', z);
      const tb = createBufferWithData(device, 'test.ceKl.t', targets);
      const state = createStorageBuffer(device, 'test.ceKl.state', N * CE_KL_STATE * 4);
      // Two chunks read from the same buffer at different column offsets.
      const chunks = [
        { rows: N, cols: 128, ld: V, v0: 0, off_c: 0, off_n: 0 },
        { rows: N, cols: V - 128, ld: V, v0: 128, off_c: 128, off_n: 128 },
      ];
      const kern = new CeKlKernel(
        device,
        'test.ceKl.same',
        chunks,
        { zc: zb, zn: zb, targets: tb, state },
        shape,
      );
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      kern.record(pass, 0);
      kern.record(pass, 1);
      pass.end();
      device.queue.submit([enc.finish()]);
      const r = ceKlFinish(await readFloat32(device, state), targets, N);
      expect(Array.from(r.kl).every((v) => v === 0)).toBe(true);
      expect(Array.from(r.ceNew)).toEqual(Array.from(r.ceClean));
      // And the CE is right: against the direct log-softmax of each row.
      const want = Array.from({ length: N }, (_, n) => {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, z[n * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(z[n * V + v] - m);
        return m + Math.log(s) - z[n * V + targets[n]];
      });
      expectClose(`CE WG ${shape.WG}`, r.ceClean, want, 3e-5, 0);
      kern.destroy();
      for (const b of [zb, tb, state]) b.destroy();
    }
  });
});

describe('LossRecoveredHead: chunked unembedding + fold with a 50k vocabulary', () => {
  it('= TokenLossStream on float64 logits, and no GPU buffer of tokens × vocabulary is ever created', async () => {
    const gpu = await getTestGpu();
    const { device } = gpu;
    const N = 48; // 3 rows of 16 tokens
    const d = 16;
    const V = 50257; // GPT-2's vocabulary
    const rng = new Rng(43, 3);
    const W_U = Float32Array.from({ length: V * d }, () => rng.normal() / 2);
    const h = (scale: number, base?: Float32Array) =>
      Float32Array.from({ length: N * d }, (_, i) => (base ? base[i] : 0) + scale * rng.normal());
    const hc = h(1);
    const hs = h(0.15, hc); // a good reconstruction: close to clean
    const ha = h(1); // the ablation: unrelated
    const targets = Uint32Array.from({ length: N }, (_, n) => (n % 16 === 15 ? NO_TARGET : rng.int(V)));

    // Measure every buffer created from here on.
    const sizes: { label: string; size: number }[] = [];
    const create = device.createBuffer.bind(device);
    device.createBuffer = (desc: GPUBufferDescriptor) => {
      sizes.push({ label: desc.label ?? '', size: desc.size });
      return create(desc);
    };
    let head: LossRecoveredHead;
    let got;
    try {
      const parts = uploadUnembedding(gpu, W_U, V, d);
      const hidden = {
        clean: createBufferWithData(device, 'test.h.clean', hc),
        sae: createBufferWithData(device, 'test.h.sae', hs),
        abl: createBufferWithData(device, 'test.h.abl', ha),
      };
      head = new LossRecoveredHead(gpu, N, d, V, hidden, parts);
      head.setTargets(targets);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      head.record(pass);
      pass.end();
      device.queue.submit([enc.finish()]);
      got = await head.readTokens();
      head.destroy();
      for (const b of Object.values(hidden)) b.destroy();
      for (const p of parts) p.buffer.destroy();
    } finally {
      device.createBuffer = create;
    }
    expect(head.chunks.length).toBe(Math.ceil(V / 8192));
    const largest = sizes.reduce((a, b) => (b.size > a.size ? b : a));
    // The largest buffer is a logits chunk [N, 8192] (1.5 MB) or W_U (3.2 MB): far below N·V·4 = 9.6 MB.
    expect(largest.size, `largest buffer ${largest.label}`).toBeLessThan(N * V * 4);
    expect(Math.max(...sizes.filter((s) => s.label.includes('logits')).map((s) => s.size))).toBe(
      N * 8192 * 4,
    );

    // Reference: float64 logits from the same f32 h and W_U, streamed in the same chunks.
    const stream = new TokenLossStream(N, 2, targets, V);
    for (const c of head.chunks) {
      const z = [hc, hs, ha].map((hh) => {
        const out = new Float64Array(N * c.cols);
        for (let n = 0; n < N; n++)
          for (let j = 0; j < c.cols; j++) {
            let s = 0;
            const wo = (c.v0 + j) * d;
            for (let k = 0; k < d; k++) s += hh[n * d + k] * W_U[wo + k];
            out[n * c.cols + j] = s;
          }
        return out;
      });
      stream.addChunk(c.v0, c.cols, c.cols, z[0], [z[1], z[2]]);
    }
    const want = stream.finish();
    const has = (a: Float64Array) => Array.from(a).filter((_, n) => targets[n] !== NO_TARGET);
    const r = [
      expectClose('CE clean', has(got!.ceClean), has(want.ceClean), 2e-4, 0),
      expectClose('CE sae', has(got!.ceSae), has(want.ce[0]), 2e-4, 0),
      expectClose('CE abl', has(got!.ceAbl), has(want.ce[1]), 2e-4, 0),
      expectClose('KL sae', got!.klSae, want.kl[0], 2e-4, 0),
      expectClose('KL abl', got!.klAbl, want.kl[1], 2e-4, 0),
    ];
    console.log(r.map((x) => x.message).join('\n'));
    console.log(
      `largest GPU buffer: ${largest.label} ${largest.size} bytes; tokens × vocab × 4 = ${N * V * 4}`,
    );
    // The KL of the near reconstruction is small but not 0, the ablation's large.
    const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(want.kl[0])).toBeGreaterThan(0);
    expect(mean(want.kl[1])).toBeGreaterThan(5 * mean(want.kl[0]));
  });
});
