// The whole GPU forward (src/lm/gpu/forward.ts) against the float64 reference forward
// (src/lm/reference/forward.ts) on seeded random tiny models of both families: logits and every hook of
// every block, with patching, starting and stopping at hooks, and with every matrix split into blocks.
// Tolerance: the GPU is f32 end to end, the reference float64. Each block passes values through ~6
// reductions of ≤ 40 terms (norm, GEMMs over d = 16 and d_mlp = 40, attention over ≤ 7 keys); with O(1)
// activations each adds ≲ 40·2⁻²⁴ ≈ 2e-6 relative. Measured max |diff| over two blocks: hooks ≤ 1.7e-6,
// logits (|logit| ≤ 16) ≤ 1.8e-6. atol 2e-5 + rtol 2e-5 is a 10× margin, while a wrong head grouping,
// rotary pairing, bias, column block or hook point gives O(0.1–1) differences.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { createBufferWithData } from '../../src/gpu/buffers';
import type { GpuContext } from '../../src/gpu/device';
import { roundToF16 } from '../../src/lm/gpu/f16Weights';
import { LmGpuForward } from '../../src/lm/gpu/forward';
import { planLmMemory } from '../../src/lm/gpu/plan';
import { centerResidual, forwardReference } from '../../src/lm/reference/forward';
import { HOOK_POINTS, type LanguageModel } from '../../src/lm/types';
import { randomIds, randomModel, type RandomModelOptions } from '../fixtures/lm/randomModel';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const ATOL = 2e-5;
const RTOL = 2e-5;
const [S, T] = [2, 7];

const allHooks = (m: LanguageModel) =>
  Array.from({ length: m.config.n_layers }, (_, l) => HOOK_POINTS.map((p) => `blocks.${l}.${p}`)).flat();

const models: [string, RandomModelOptions][] = [
  ['gpt2', { family: 'gpt2', seed: 1 }],
  ['llama, rotate_half, GQA 4/2, untied', { family: 'llama', seed: 2, rope_style: 'half' }],
  [
    'llama, interleaved, GQA 4/1, tied',
    { family: 'llama', seed: 3, rope_style: 'interleaved', n_kv_heads: 1, tied: true },
  ],
];

async function compareAll(name: string, fwd: LmGpuForward, model: LanguageModel, ids: Int32Array) {
  const hooks = allHooks(model);
  fwd.forward(ids, { capture: hooks });
  const got = await fwd.readHooks(hooks);
  const ref = forwardReference(model, ids, S, T, { capture: hooks });
  for (const h of hooks) expectClose(`${name} ${h}`, got.get(h)!, ref.hooks.get(h)!, ATOL, RTOL);
  expectClose(`${name} logits`, await fwd.readAllLogits(), ref.logits, ATOL, RTOL);
}

describe('GPU forward vs float64 reference', () => {
  for (const [name, o] of models)
    it(`${name}: logits and all five hooks of every block`, async () => {
      const ctx = await getTestGpu();
      const model = randomModel(o);
      const fwd = new LmGpuForward(ctx, model, { S, T });
      expect(fwd.logitsChunks.length).toBe(1);
      await compareAll(name, fwd, model, randomIds(model.config.vocab_size, S, T, 7));
      // A second forward with other ids reuses everything built once.
      await compareAll(`${name} (again)`, fwd, model, randomIds(model.config.vocab_size, S, T, 8));
      fwd.destroy();
    });

  for (const [name, o] of models)
    it(`${name}: every matrix split by a small binding limit, logits in chunks`, async () => {
      const ctx = await getTestGpu();
      const model = randomModel({ ...o, d_mlp: 72, vocab_size: 150 });
      // 4 KiB bindings (the [14, 72] activations just fit): W_in [16, 72] → column blocks of 64 + 8,
      // W_out [72, 16] → 14 + 2, W_E/W_U [150, 16] → 64 + 64 + 22 rows; logits in chunks of ≤ 5 rows.
      const fwd = new LmGpuForward(ctx, model, { S, T, bindLimit: 4096, vocabChunk: 5 });
      expect(fwd.plan.columnBlocks(16, 72).map((b) => b.count)).toEqual([64, 8]);
      expect(fwd.plan.columnBlocks(72, 16).map((b) => b.count)).toEqual([14, 2]);
      expect(fwd.plan.vocabBlocks.map((b) => b.count)).toEqual([64, 64, 22]);
      expect(fwd.logitsChunks.length).toBeGreaterThan(fwd.plan.vocabBlocks.length);
      for (const b of fwd.plan.buffers.filter((x) => /W_|logits/.test(x.name)))
        expect(b.bytes).toBeLessThanOrEqual(4096);
      await compareAll(`${name} split`, fwd, model, randomIds(150, S, T, 9));
      // A few rows' logits across every chunk, in one readback (what sampling reads).
      const rows = await fwd.readLogitsRows([13, 0, 6]);
      const ref = forwardReference(model, randomIds(150, S, T, 9), S, T).logits;
      const want = [13, 0, 6].flatMap((r) => Array.from(ref.subarray(r * 150, (r + 1) * 150)));
      expectClose(`${name} logits rows 13, 0, 6`, rows, want, ATOL, RTOL);
      await expect(fwd.readLogitsRows([14])).rejects.toThrow(/logits row 14 is outside 0..13/);
      fwd.destroy();
    });
});

describe('edge shapes', () => {
  // One token per sequence, one head of 4 dimensions, odd widths everywhere (f16 rows padded), a
  // two-word vocabulary, more kv groups than queries per group… each against the reference, f32 and f16.
  const shapes: [string, RandomModelOptions, number, number][] = [
    ['T = 1, S = 3', { family: 'gpt2', seed: 41, n_layers: 1 }, 3, 1],
    [
      'one head of 4, d_mlp 7, vocab 2',
      { family: 'gpt2', seed: 42, d_model: 4, n_heads: 1, d_mlp: 7, vocab_size: 2 },
      2,
      5,
    ],
    [
      'llama d 24: 6 heads over 3, d_mlp 33, vocab 61',
      { family: 'llama', seed: 43, d_model: 24, n_heads: 6, n_kv_heads: 3, d_mlp: 33, vocab_size: 61 },
      1,
      9,
    ],
    [
      'llama 3 blocks, MHA (kv = heads), interleaved, T = n_ctx',
      { family: 'llama', seed: 44, n_layers: 3, n_kv_heads: 4, rope_style: 'interleaved', n_ctx: 8 },
      2,
      8,
    ],
  ];
  for (const [name, o, s, t] of shapes)
    for (const weights of ['f32', 'f16'] as const)
      it(`${name}, ${weights} weights`, async () => {
        const ctx = await getTestGpu();
        const m = randomModel(o);
        const fwd = new LmGpuForward(ctx, m, { S: s, T: t, weights });
        const ids = randomIds(m.config.vocab_size, s, t, 16);
        const hooks = allHooks(m);
        fwd.forward(ids, { capture: hooks });
        const got = await fwd.readHooks(hooks);
        const want = weights === 'f16' ? roundProjections(m) : m;
        const ref = forwardReference(want, ids, s, t, { capture: hooks });
        for (const h of hooks)
          expectClose(`${name} ${weights} ${h}`, got.get(h)!, ref.hooks.get(h)!, ATOL, RTOL);
        expectClose(`${name} ${weights} logits`, await fwd.readAllLogits(), ref.logits, ATOL, RTOL);
        fwd.destroy();
      });
});

/** The model the f16 path computes with: every weight matrix rounded to halves (W_pos, norms, biases stay f32). */
function roundProjections(m: LanguageModel): LanguageModel {
  const r = (a: Float32Array) => roundToF16(a);
  const blocks = m.weights.blocks.map((b) => ({
    ...b,
    W_Q: r(b.W_Q),
    W_K: r(b.W_K),
    W_V: r(b.W_V),
    W_O: r(b.W_O),
    W_in: r(b.W_in),
    W_gate: b.W_gate ? r(b.W_gate) : null,
    W_out: r(b.W_out),
  }));
  const W_E = r(m.weights.W_E);
  const W_U = m.weights.W_U === m.weights.W_E ? W_E : r(m.weights.W_U);
  return { config: m.config, weights: { ...m.weights, W_E, W_U, blocks } };
}

// f16 weights decode with unpack2x16float (core WGSL, no shader-f16 feature), so these run on every
// adapter including SwiftShader. Against the reference on the f16-rounded model the f32 tolerance holds;
// against the unrounded model the difference is the rounding's (checked to be real, > 1e-4).
describe('GPU forward with f16 weights', () => {
  for (const [name, o] of [models[0], models[2]])
    for (const bindLimit of [undefined, 4096])
      it(`${name}${bindLimit ? ', split' : ''}: matches the reference on the f16-rounded model`, async () => {
        const ctx = await getTestGpu();
        // Split: d 48 makes W_in [48, 72] (6.9 KB in f16) larger than a 4 KiB binding while the
        // [14, 72] activations still fit: column blocks of 42 + 30.
        const model = randomModel({ ...o, d_model: bindLimit ? 48 : 16, d_mlp: 72, vocab_size: 150 });
        const fwd = new LmGpuForward(ctx, model, {
          S,
          T,
          weights: 'f16',
          bindLimit,
          vocabChunk: bindLimit ? 9 : undefined,
        });
        const f32Plan = planLmMemory(model.config, S, T, ctx.limits, {
          untied: model.weights.W_U !== model.weights.W_E,
        });
        const W = (p: { buffers: { name: string; bytes: number }[] }) =>
          p.buffers
            .filter((b) => /W_(Q|K|V|O|in|gate|out|E|U)#/.test(b.name))
            .reduce((a, b) => a + b.bytes, 0);
        expect(W(fwd.plan)).toBeLessThanOrEqual(W(f32Plan) / 2 + 64 * model.config.n_layers);
        if (bindLimit) {
          expect(fwd.plan.columnBlocks(48, 72).map((b) => b.count)).toEqual([42, 30]);
          // W_E stored [48, vocab] in f16: blocks of 42 columns; chunks of 9 → 8 rows (f16 chunks start on a
          // word), so chunks begin at even offsets inside each block.
          expect(fwd.plan.vocabBlocks.map((b) => b.count)).toEqual([42, 42, 42, 24]);
          expect(fwd.logitsChunks.slice(0, 6).map((c) => [c.v0, c.rows])).toEqual([
            [0, 8],
            [8, 8],
            [16, 8],
            [24, 8],
            [32, 8],
            [40, 2],
          ]);
        }
        const ids = randomIds(150, S, T, 13);
        await compareAll(`${name} f16`, fwd, roundProjections(model), ids);
        const exact = forwardReference(model, ids, S, T);
        const got = await fwd.readAllLogits();
        expect(Math.max(...exact.logits.map((v, i) => Math.abs(v - got[i])))).toBeGreaterThan(1e-4);
        fwd.destroy();
      });
});

// What a real GPU runs (shared-memory tiled GEMMs, a workgroup per norm row), here on SwiftShader: the
// device machine was not available to this work, so this is the check of that configuration.
describe('the real-GPU configuration', () => {
  for (const [name, o] of [models[0], models[1]])
    for (const weights of ['f32', 'f16'] as const)
      it(`${name}, ${weights} weights, tiled GEMMs and workgroup norms, split`, async () => {
        const ctx = await getTestGpu();
        const model = randomModel({ ...o, d_mlp: 72, vocab_size: 150 });
        const fwd = new LmGpuForward(ctx, model, {
          S,
          T,
          design: 'tiled',
          normRowPerInvocation: false,
          weights,
          bindLimit: 4096,
          vocabChunk: 20,
        });
        const want = weights === 'f16' ? roundProjections(model) : model;
        await compareAll(`${name} tiled ${weights}`, fwd, want, randomIds(150, S, T, 17));
        fwd.destroy();
      });
});

describe('hooks: patch, start, stop', () => {
  const rng = new Rng(4, 2);
  const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

  for (const [name, o] of models.slice(0, 2))
    it(`${name}: patching each kind of hook matches the reference's patch`, async () => {
      const ctx = await getTestGpu();
      const model = randomModel(o);
      const fwd = new LmGpuForward(ctx, model, { S, T });
      const ids = randomIds(model.config.vocab_size, S, T, 10);
      const hooks = allHooks(model);
      for (const target of [
        'blocks.0.hook_resid_pre',
        'blocks.0.hook_attn_out',
        'blocks.1.hook_resid_mid',
        'blocks.1.hook_mlp_out',
      ]) {
        const v = values(S * T * model.config.d_model);
        const buf = createBufferWithData(ctx.device, 'patch', v);
        fwd.forward(ids, { capture: hooks, patch: { hook: target, buffer: buf } });
        const got = await fwd.readHooks(hooks);
        const ref = forwardReference(model, ids, S, T, {
          capture: hooks,
          patch: { hook: target, values: v },
        });
        for (const h of hooks)
          expectClose(`${name} patch ${target}: ${h}`, got.get(h)!, ref.hooks.get(h)!, ATOL, RTOL);
        expectClose(`patched ${target} value`, got.get(target)!, v, 0, 0);
        expectClose(`${name} patch ${target}: logits`, await fwd.readAllLogits(), ref.logits, ATOL, RTOL);
        buf.destroy();
      }
      fwd.destroy();
    });

  it('start at a residual hook gives the logits of the full forward; stopAt skips the rest', async () => {
    const ctx = await getTestGpu();
    const model = randomModel({ family: 'llama', seed: 5, n_layers: 3 });
    const ids = randomIds(model.config.vocab_size, S, T, 11);
    const full = new LmGpuForward(ctx, model, { S, T });
    const hooks = allHooks(model);
    full.forward(ids, { capture: hooks });
    const clean = await full.readHooks(hooks);
    const logits = await full.readAllLogits();
    // A fresh instance that never ran the embedding: start from block 1's resid_mid (skips block 0 and
    // block 1's attention), with the ids written (they are not needed past the embedding).
    const late = new LmGpuForward(ctx, model, { S, T });
    for (const startAt of [
      'blocks.1.hook_resid_mid',
      'blocks.2.hook_resid_pre',
      'blocks.2.hook_resid_post',
    ]) {
      const buf = createBufferWithData(ctx.device, 'start', clean.get(startAt)!);
      late.forward(null, { start: { hook: startAt, buffer: buf }, capture: ['blocks.2.hook_resid_post'] });
      expectClose(`start ${startAt}: logits`, await late.readAllLogits(), logits, 1e-5, 1e-5);
      const post = (await late.readHooks(['blocks.2.hook_resid_post'])).get('blocks.2.hook_resid_post')!;
      expectClose(`start ${startAt}: resid_post 2`, post, clean.get('blocks.2.hook_resid_post')!, 1e-5, 1e-5);
      buf.destroy();
    }
    // stopAt: the final norm is skipped, so h_final keeps what it had (zeros on a fresh instance).
    const stopper = new LmGpuForward(ctx, model, { S, T });
    stopper.forward(ids, { capture: ['blocks.0.hook_mlp_out'], stopAt: 'blocks.0.hook_mlp_out' });
    const mlp0 = (await stopper.readHooks(['blocks.0.hook_mlp_out'])).get('blocks.0.hook_mlp_out')!;
    expectClose('stopAt: the captured hook', mlp0, clean.get('blocks.0.hook_mlp_out')!, 0, 0);
    const { readFloat32 } = await import('../../src/gpu/buffers');
    expect((await readFloat32(ctx.device, stopper.hFinal)).every((v) => v === 0)).toBe(true);
    expect(() =>
      stopper.forward(ids, { capture: ['blocks.1.hook_resid_pre'], stopAt: 'blocks.0.hook_mlp_out' }),
    ).toThrow(/outside the hooks/);
    expect(() => late.forward(null, { start: { hook: 'blocks.1.hook_attn_out', buffer: full.x } })).toThrow(
      /cannot start at blocks.1.hook_attn_out/,
    );
    expect(() => late.forward(null, { start: { hook: 'blocks.1.hook_resid_pre', buffer: late.x } })).toThrow(
      /start blocks.1.hook_resid_pre buffer is one of the forward's own activations \(lm.x\)/,
    );
    for (const f of [full, late, stopper]) f.destroy();
  });

  it('center: every captured hook is its row-centred value (TransformerLens processing); RMSNorm refuses', async () => {
    const ctx = await getTestGpu();
    const model = randomModel({ family: 'gpt2', seed: 8 });
    const fwd = new LmGpuForward(ctx, model, { S, T });
    const ids = randomIds(model.config.vocab_size, S, T, 14);
    const hooks = allHooks(model);
    fwd.forward(ids, { capture: hooks, center: true });
    const got = await fwd.readHooks(hooks);
    const ref = forwardReference(model, ids, S, T, { capture: hooks });
    const d = model.config.d_model;
    for (const h of hooks)
      expectClose(`centred ${h}`, got.get(h)!, centerResidual(ref.hooks.get(h)!, d), ATOL, RTOL);
    // The forward is untouched: the logits are the plain model's.
    expectClose('logits with centred captures', await fwd.readAllLogits(), ref.logits, ATOL, RTOL);
    // The raw residual has a row mean well away from 0, so the centring is not a no-op.
    const raw = ref.hooks.get('blocks.1.hook_resid_post')!;
    expect(Math.max(...centerResidual(raw, d).map((v, i) => Math.abs(v - raw[i])))).toBeGreaterThan(0.01);
    fwd.destroy();
    const llama = new LmGpuForward(ctx, randomModel({ family: 'llama', seed: 8 }), { S, T });
    expect(() => llama.forward(ids, { capture: ['blocks.0.hook_resid_post'], center: true })).toThrow(
      /uses RMSNorm.*never centred/,
    );
    llama.destroy();
  });

  it('rejects ids outside the vocabulary and a patch buffer of the wrong size', async () => {
    const ctx = await getTestGpu();
    const model = randomModel({ family: 'gpt2', seed: 6 });
    const fwd = new LmGpuForward(ctx, model, { S, T });
    const ids = randomIds(model.config.vocab_size, S, T, 12);
    ids[5] = model.config.vocab_size;
    expect(() => fwd.forward(ids)).toThrow(/token id 37 at 5 is outside the vocabulary 0..36/);
    expect(() => fwd.forward(ids.subarray(1))).toThrow(/13 token ids, S·T = 14/);
    const small = createBufferWithData(ctx.device, 'small', new Float32Array(10));
    expect(() => fwd.forward(null, { patch: { hook: 'blocks.0.hook_resid_pre', buffer: small } })).toThrow(
      /patch blocks.0.hook_resid_pre buffer has 40 bytes/,
    );
    small.destroy();
    fwd.destroy();
  });
});

describe('memory plan', () => {
  it('a model larger than the adapter allows is refused before any buffer is made, naming the bytes', async () => {
    const ctx = await getTestGpu();
    let created = 0;
    let storageBytes = 0; // storage buffers the forward makes, less 16-byte placeholders
    const device = new Proxy(ctx.device, {
      get(target, prop) {
        if (prop === 'createBuffer')
          return (d: GPUBufferDescriptor) => {
            created++;
            if (d.usage & GPUBufferUsage.STORAGE && !/\.(none|noBias)$/.test(d.label ?? ''))
              storageBytes += d.size;
            return target.createBuffer(d);
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const counting: GpuContext = { ...ctx, device };
    const model = randomModel({ family: 'gpt2', seed: 7, d_model: 64, n_heads: 4, d_mlp: 256 });
    // One column of W_out [256, 64] is 1 KiB: a 512-byte binding cannot hold it (nor W_pos, nor [14, 64]).
    const refuse = () => new LmGpuForward(counting, model, { S, T, bindLimit: 512 });
    expect(refuse).toThrow(
      /buffer W_pos needs 1792 bytes \(1\.8 KiB\) but the adapter's maxStorageBufferBindingSize is 512 bytes/,
    );
    expect(refuse).toThrow(/blocks\.0\.W_out#0 \(1024 bytes\)/);
    // A memory budget below the total refuses too, with both numbers.
    const plan = planLmMemory(model.config, S, T, {
      maxStorageBufferBindingSize: 2 ** 30,
      maxBufferSize: 2 ** 30,
    });
    expect(plan.fits).toBe(true);
    expect(() => new LmGpuForward(counting, model, { S, T, memoryBudgetBytes: plan.bytes - 1 })).toThrow(
      new RegExp(`needs ${plan.bytes} bytes .* but the memory budget is ${plan.bytes - 1} bytes`),
    );
    expect(created).toBe(0);
    // The plan counts exactly what the constructor makes.
    const fwd = new LmGpuForward(counting, model, { S, T });
    expect(storageBytes).toBe(plan.bytes);
    fwd.destroy();
    // So does it with f16 weights (rows of halves padded to even, buffers to 4 bytes).
    storageBytes = 0;
    const half = new LmGpuForward(counting, { ...model }, { S, T, weights: 'f16' });
    expect(storageBytes).toBe(half.plan.bytes);
    expect(half.plan.bytes).toBeLessThan(plan.bytes);
    half.destroy();
  });

  it('a 50257-token vocabulary: logits come in chunks, no GPU buffer is [tokens × vocab], all chunks = the reference', async () => {
    const ctx = await getTestGpu();
    const sizes: number[] = [];
    const device = new Proxy(ctx.device, {
      get(target, prop) {
        if (prop === 'createBuffer')
          return (d: GPUBufferDescriptor) => (sizes.push(d.size), target.createBuffer(d));
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const V = 50257;
    const model = randomModel({ family: 'gpt2', seed: 9, vocab_size: V });
    const fwd = new LmGpuForward({ ...ctx, device }, model, { S, T });
    const N = S * T;
    // Chunks of 8192 rows: the logits buffer is [14, 8192]; nothing the forward made holds [14, 50257].
    expect(fwd.logitsChunks.map((c) => c.rows)).toEqual([8192, 8192, 8192, 8192, 8192, 8192, V - 6 * 8192]);
    expect(fwd.logits.size).toBe(N * 8192 * 4);
    expect(sizes.filter((b) => b >= N * V * 4 && b !== V * 16 * 4)).toEqual([]); // W_E [V, 16] is the one larger
    const ids = randomIds(V, S, T, 15);
    fwd.forward(ids);
    expectClose(
      '50k logits, chunk by chunk',
      await fwd.readAllLogits(),
      forwardReference(model, ids, S, T).logits,
      ATOL,
      RTOL,
    );
    fwd.destroy();
  });

  it('the plan of gpt2-small at S 8, T 128 splits nothing on a 128 MiB binding except the 154 MB embedding', () => {
    const c = {
      ...randomModel({ family: 'gpt2' }).config,
      n_layers: 12,
      d_model: 768,
      n_heads: 12,
      head_dim: 64,
      d_mlp: 3072,
      vocab_size: 50257,
      n_ctx: 1024,
    };
    const plan = planLmMemory(c, 8, 128, { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 });
    expect(plan.fits).toBe(true);
    expect(plan.vocabBlocks.map((b) => b.count)).toEqual([43648, 50257 - 43648]);
    expect(plan.columnBlocks(768, 3072).length).toBe(1);
    // [1024 tokens, 8192 rows] of logits at a time, never [1024, 50257].
    expect(plan.logitsChunkRows).toBe(8192);
    expect(plan.largestBuffer.bytes).toBeLessThanOrEqual(2 ** 27);
    // Shapes the kernels cannot run are refused by the plan, with the reason.
    const big = { maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: 2 ** 40 };
    expect(planLmMemory(c, 8193, 128, big).reason).toMatch(/1048704 tokens per forward \(S·T\) is more than/);
    expect(planLmMemory(c, 1, 1025, big).reason).toMatch(
      /context 1025 is longer than the model's n_ctx 1024/,
    );
    expect(planLmMemory({ ...c, head_dim: 66 }, 1, 8, big).reason).toMatch(
      /head_dim 66 is not a multiple of 4/,
    );
  });
});

describe('bench/capture FLOP count', () => {
  it('a hand-counted block: projections, the causal attention triangle and the unembedding', async () => {
    const { forwardFlops } = await import('../../bench/capture');
    const c = randomModel({
      family: 'gpt2',
      n_layers: 1,
      d_model: 4,
      n_heads: 2,
      d_mlp: 8,
      vocab_size: 10,
    }).config;
    // N = 2 tokens: 2·N·(d·qd + 2·d·kvd + qd·d + 2·d·d_mlp) = 4·(16 + 32 + 16 + 64) = 512;
    // attention 2·2·S·H·hd·T(T+1)/2 = 4·1·2·2·3 = 48; logits 2·N·d·V = 160.
    expect(forwardFlops(c, 1, 2, 1, false)).toBe(560);
    expect(forwardFlops(c, 1, 2, 1, true)).toBe(720);
    // SwiGLU has three d × d_mlp matrices.
    const l = randomModel({
      family: 'llama',
      n_layers: 1,
      d_model: 4,
      n_heads: 2,
      n_kv_heads: 2,
      d_mlp: 8,
    }).config;
    expect(forwardFlops(l, 1, 2, 1, false)).toBe(560 + 2 * 2 * 32);
  });
});
