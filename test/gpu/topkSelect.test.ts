// The TopK selection kernels alone vs their twins, at the workgroup sizes the trainer uses (4 on
// SwiftShader, 256 on GPUs, and 32): shaders/topk.wgsl vs topkTwin and shaders/auxk_select.wgsl vs topkIndices
// over the dead features (the reference's AuxK choice). Exact comparison: selection copies values, so
// any difference is a selection error. Rows cover the radix select's paths: distinct values (early stop
// after a round), all tied, ties straddling the k-th (all 4 rounds and the index-ranked tie cut), no or
// too few positive values, tiny and last-bit values, ±1e30, a padding row; k = 1 … d_sae; d_sae not a
// multiple of either workgroup; a row block that does not start at batch row 0.
import { describe, expect, it } from 'vitest';
import auxkCode from '../../shaders/auxk_select.wgsl?raw';
import topkCode from '../../shaders/topk.wgsl?raw';
import { createBufferWithData, createUniformBuffer, readFloat32 } from '../../src/gpu/buffers';
import { grid } from '../../src/gpu/dispatch';
import { bindBuffers, createKernel } from '../../src/gpu/kernel';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { packParams } from '../../src/sae/gpu/layout';
import { withSaeStructs } from '../../src/sae/gpu/saePasses';
import { topkIndices } from '../../src/sae/reference/forward';
import { topkTwin } from '../../src/sae/twins/activation';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const ROWS = 10;
/** Batch rows before the tested row block (its rowflags are at row0 + n). */
const ROW0 = 3;

function testRows(m: number): { pre: Float32Array; valid: Uint8Array } {
  const pre = new Float32Array(ROWS * m);
  const r = (n: number) => pre.subarray(n * m, (n + 1) * m);
  r(0).forEach((_, i, a) => (a[i] = Math.sin(i * 12.9898) * 3)); // distinct, mixed signs
  r(1).fill(0.5); // every value tied
  r(2).forEach((_, i, a) => (a[i] = i % 7 === 0 ? 1.25 : i % 3 === 0 ? 2.5 : -1)); // ties straddle the k-th
  r(3).fill(-1); // no positive value
  r(4).forEach((_, i, a) => (a[i] = i < 3 ? i + 1 : i % 2 ? 0 : -0)); // fewer positives than k, ±0
  r(5).forEach((_, i, a) => (a[i] = (i % 5) * 1e-30)); // tiny values
  r(6).forEach((_, i, a) => (a[i] = 1 + (i % 13) * 1.2e-7)); // values differing in the last bits
  r(7).forEach((_, i, a) => (a[i] = i === m - 1 ? 1e30 : -1e30));
  r(8).forEach((_, i, a) => (a[i] = Math.cos(i * 7.31) * (1 + (i % 4)))); // padding row below
  r(9).forEach((_, i, a) => (a[i] = ((i * 37) % 11) - 4)); // small integers: many ties everywhere
  const valid = new Uint8Array(ROWS).fill(1);
  valid[8] = 0;
  return { pre, valid };
}

async function select(
  kernel: 'topk' | 'auxk',
  wg: number,
  cfg: TrainConfig,
  pre: Float32Array,
  valid: Uint8Array,
  tokensSinceFired?: Float32Array,
): Promise<{ out: Float32Array; state: Float32Array }> {
  const { device } = await getTestGpu();
  const m = cfg.d_sae;
  const N = ROW0 + ROWS;
  const params = createUniformBuffer(device, 'test.params', 112);
  device.queue.writeBuffer(params, 0, packParams(cfg, { N, T: N, nValid: 1, lr: 0, step: 1 }));
  const flags = new Uint32Array(N);
  valid.forEach((v, n) => (flags[ROW0 + n] = v ? 2 : 0));
  const blk = createUniformBuffer(device, 'test.block', 32);
  device.queue.writeBuffer(blk, 0, new Uint32Array([ROW0, ROWS, 0, m, 1, 1, 0, 0]));
  const bufs = {
    pre: createBufferWithData(device, 'test.pre', pre),
    flags: createBufferWithData(device, 'test.rowflags', flags),
    out: createBufferWithData(device, 'test.out', new Float32Array(ROWS * m).fill(42)),
    tsf: createBufferWithData(device, 'test.tsf', tokensSinceFired ?? new Float32Array(m)),
    state: createBufferWithData(device, 'test.state', new Float32Array(8)),
  };
  const pipeline = createKernel(device, {
    label: `test.${kernel}`,
    code: withSaeStructs(kernel === 'topk' ? topkCode : auxkCode),
    constants: { WG: wg },
  });
  const bind = bindBuffers(
    device,
    pipeline,
    'test.bind',
    kernel === 'topk'
      ? [params, bufs.pre, bufs.flags, bufs.out, blk]
      : [params, bufs.pre, bufs.tsf, bufs.flags, bufs.out, bufs.state, blk],
  );
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(...grid(ROWS));
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = await readFloat32(device, bufs.out);
  const state = await readFloat32(device, bufs.state);
  for (const b of [params, blk, ...Object.values(bufs)]) b.destroy();
  return { out, state };
}

describe('TopK selection kernel (topk.wgsl) vs topkTwin', () => {
  for (const wg of [4, 32, 256])
    for (const [m, ks] of [
      [300, [1, 5, 64, 299, 300]],
      [37, [1, 9, 37]],
    ] as [number, number[]][])
      it(`WG ${wg}, d_sae ${m}, k ${ks.join(', ')}`, async () => {
        const { pre, valid } = testRows(m);
        for (const k of ks) {
          const cfg = { ...DEFAULT_CONFIG, architecture: 'topk' as const, d_sae: m, k };
          const { out: f } = await select('topk', wg, cfg, pre, valid);
          expectClose(`k=${k}`, f, topkTwin(pre, valid, ROWS, m, k), 0, 0);
        }
      });
});

describe('AuxK selection kernel (auxk_select.wgsl) vs topkIndices over dead features', () => {
  for (const wg of [4, 32, 256])
    it(`WG ${wg}: k_aux of the dead features, raw values`, async () => {
      const m = 300;
      const { pre, valid } = testRows(m);
      // Every third feature and the last 40 are dead (window 100 tokens).
      const tsf = Float32Array.from({ length: m }, (_, i) => (i % 3 === 0 || i >= m - 40 ? 100 : 99));
      const dead = Array.from({ length: m }, (_, i) => i).filter((i) => tsf[i] >= 100);
      for (const auxK of [1, 7, 64, dead.length, 500]) {
        const cfg = {
          ...DEFAULT_CONFIG,
          architecture: 'topk' as const,
          d_sae: m,
          aux_k: auxK,
          dead_feature_window: 100,
        };
        const { out: got, state } = await select('auxk', wg, cfg, pre, valid, tsf);
        // Only the block's first row writes them, and only when it is batch row 0: not here (ROW0 > 0).
        expect([state[4], state[5]]).toEqual([0, 0]);
        const want = new Float64Array(ROWS * m);
        for (let n = 0; n < ROWS; n++) {
          if (!valid[n]) continue;
          const row = pre.subarray(n * m, (n + 1) * m);
          for (const i of topkIndices(row, Math.min(auxK, dead.length), dead)) want[n * m + i] = row[i];
        }
        expectClose(`aux_k=${auxK}`, got, want, 0, 0);
      }
    });

  it('no dead feature: f_aux is all zeros', async () => {
    const m = 37;
    const { pre, valid } = testRows(m);
    const cfg = { ...DEFAULT_CONFIG, architecture: 'topk' as const, d_sae: m, dead_feature_window: 100 };
    const { out: got } = await select('auxk', 32, cfg, pre, valid, new Float32Array(m));
    expect(got.every((v) => v === 0)).toBe(true);
  });
});
