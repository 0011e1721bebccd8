// Loss recovered end to end on the GPU (LossRecoveredGpu, src/lm/gpu/lossRecovered.ts): the WGSL forward
// (clean with capture, spliced and ablated from the hook), a GPU SAE trainer's x̂, the chunked head, on
// random tiny models, against the float64 reference (lossRecoveredReference: src/lm/reference/forward.ts,
// src/sae/reference/forward.ts, TokenLossStream). Plus the exact edge cases on the GPU and the memory
// bound with a 50k vocabulary, every GPU buffer measured.
// Tolerances: the GPU forward is f32 (logits of O(10) after a few blocks: ~1e-5 absolute), the spliced
// x̂ is the f64 SAE's rounded to f32, and the head's f32 sums (test/gpu/lmCeKl.test.ts): per-token CE
// and KL within atol 2e-4 + rtol 2e-4 (measured ≤ 4e-6 on SwiftShader when written), the means within
// 2e-4 relative; the scores, ratios of differences of means, within 1e-3 absolute. The identity and
// zero cases are exact: the spliced forward repeats the clean one's f32 operations on the same values.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { unfoldInputScaling } from '../../src/io/fold';
import {
  evaluateLossRecovered,
  LossRecoveredGpu,
  probeText,
  steerGreedy,
  trainerReconstruct,
  type ReconstructFn,
} from '../../src/lm/gpu/lossRecovered';
import {
  ignoredTokenIds,
  lossRecoveredReference,
  probeTokens,
  type LossRecoveredMetrics,
} from '../../src/lm/lossRecovered';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { referenceForward } from '../../src/sae/reference/forward';
import { refWeightsFromSae } from '../../src/sae/reference/state';
import { roundToF16 } from '../../src/lm/gpu/f16Weights';
import type { LanguageModel } from '../../src/lm/types';
import { forwardReference, generateGreedy } from '../../src/lm/reference/forward';
import { createTrainer } from '../../src/sae/trainer';
import type { SaeWeights } from '../../src/sae/types';
import { randomIds, randomModel } from '../fixtures/lm/randomModel';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const S = 2;
const T = 8;

/** A ReLU SAE whose x̂ is a rough reconstruction: decoder rows are the encoder columns, unit norm. */
function randomSae(d: number, m: number, seed: number): SaeWeights {
  const rng = new Rng(seed, 4);
  const W_enc = Float32Array.from({ length: d * m }, () => rng.normal());
  const W_dec = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += W_enc[j * m + i] ** 2;
    for (let j = 0; j < d; j++) W_dec[i * d + j] = W_enc[j * m + i] / Math.sqrt(ss);
  }
  for (let i = 0; i < W_enc.length; i++) W_enc[i] /= Math.sqrt(d);
  return {
    d_in: d,
    d_sae: m,
    W_enc,
    b_enc: Float32Array.from({ length: m }, () => -0.05),
    W_dec,
    b_dec: Float32Array.from({ length: d }, () => 0.1 * rng.normal()),
  };
}

function saeCfg(w: SaeWeights): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    architecture: 'relu',
    d_in: w.d_in,
    d_sae: w.d_sae,
    seqs_per_batch: S,
    context_size: T,
  };
}

/** The five means within 2e-4 relative (+1e-5 for KL near 0). */
function expectMeansClose(got: LossRecoveredMetrics, want: LossRecoveredMetrics): void {
  const names = [
    'ce_loss_with_sae',
    'ce_loss_without_sae',
    'ce_loss_with_ablation',
    'kl_div_with_sae',
    'kl_div_with_ablation',
  ] as const;
  for (const k of names)
    expect(Math.abs(got[k] - want[k]), `${k}: gpu ${got[k]} reference ${want[k]}`).toBeLessThan(
      2e-4 * Math.abs(want[k]) + 1e-5,
    );
}

const cases = [
  { family: 'gpt2' as const, hook: 'blocks.0.hook_resid_post', vocabChunk: 16 }, // started at the hook
  { family: 'gpt2' as const, hook: 'blocks.1.hook_mlp_out', vocabChunk: undefined }, // patched in a full forward
  { family: 'llama' as const, hook: 'blocks.1.hook_resid_pre', vocabChunk: 10 },
  // TransformerLens centring: the capture is centred on the GPU, the reference centres in float64.
  { family: 'gpt2' as const, hook: 'blocks.1.hook_resid_mid', vocabChunk: 16, center: true },
];

describe('loss recovered on the GPU = the float64 reference', () => {
  for (const c of cases)
    it(`${c.family} ${c.hook}, vocabulary chunks of ${c.vocabChunk ?? 'the default'}${c.center ? ', centred' : ''}`, async () => {
      const gpu = await getTestGpu();
      const model = randomModel({ family: c.family, seed: 21 });
      const d = model.config.d_model;
      const V = model.config.vocab_size;
      const w = randomSae(d, 40, 7);
      // BOS opens row 0 and separates two documents in row 1; EOS (= BOS for GPT-2) and pad appear too.
      const ids = randomIds(V, S, T, 8).map((t) => (ignoredTokenIds(model.config).includes(t) ? 3 : t));
      const bos = model.config.bos_token_id!;
      ids[0] = bos;
      ids[T + 3] = bos;
      if (model.config.pad_token_id !== null) ids[T + 6] = model.config.pad_token_id;
      const ev = new LossRecoveredGpu(gpu, model, c.hook, {
        S,
        T,
        vocabChunk: c.vocabChunk,
        center: c.center,
      });
      // The SAE on the CPU in float64 for both paths (trainerReconstruct has its own test below).
      const sae = (x: ArrayLike<number>, N: number) =>
        referenceForward(
          refWeightsFromSae(w),
          { S: 1, T: N, d, x: Float32Array.from(x) },
          { architecture: 'relu', k: 0 },
        ).xhat;
      const got = await ev.addBatch(ids, async (x, s, t) => Float32Array.from(sae(x, s * t)));
      const ref = lossRecoveredReference(model, ids, S, T, c.hook, sae, { center: c.center });
      expect(Array.from(got.keep)).toEqual(Array.from(ref.keep));
      const has = (a: Float64Array) => Array.from(a).filter((_, n) => n % T !== T - 1);
      expectClose('CE clean', has(got.ceClean), has(ref.tokens.ceClean), 2e-4, 2e-4);
      expectClose('CE sae', has(got.ceSae), has(ref.tokens.ce[0]), 2e-4, 2e-4);
      expectClose('CE abl', has(got.ceAbl), has(ref.tokens.ce[1]), 2e-4, 2e-4);
      expectClose('KL sae', got.klSae, ref.tokens.kl[0], 2e-4, 2e-4);
      const kl = expectClose('KL abl', got.klAbl, ref.tokens.kl[1], 2e-4, 2e-4);
      console.log(`${c.family} ${c.hook}: ${kl.message}`);
      const m = ev.metrics();
      const r = ref.metrics;
      expectMeansClose(m, r);
      expect(Math.abs(m.ce_loss_score - r.ce_loss_score)).toBeLessThan(1e-3);
      expect(Math.abs(m.kl_div_score - r.kl_div_score)).toBeLessThan(1e-3);
      expect([m.ce_tokens, m.kl_tokens]).toEqual([r.ce_tokens, r.kl_tokens]);
      // The SAE changes the loss (else the comparison above proves little).
      expect(r.kl_div_with_sae).toBeGreaterThan(1e-3);
      ev.destroy();
    });

  it('f16 weights: = the reference on the f16-rounded blocks and embedding, W_U in f32 (the loss head re-uploads it)', async () => {
    const gpu = await getTestGpu();
    const model = randomModel({ family: 'gpt2', seed: 27 });
    const d = model.config.d_model;
    const r = (a: Float32Array) => roundToF16(a);
    const w = model.weights;
    // What the f16 forward + this head compute with: rounded matrices, the f32 W_U (an untied copy).
    const rounded: LanguageModel = {
      config: model.config,
      weights: {
        ...w,
        W_E: r(w.W_E),
        W_U: w.W_U.slice(),
        blocks: w.blocks.map((b) => ({
          ...b,
          W_Q: r(b.W_Q),
          W_K: r(b.W_K),
          W_V: r(b.W_V),
          W_O: r(b.W_O),
          W_in: r(b.W_in),
          W_out: r(b.W_out),
        })),
      },
    };
    const ids = randomIds(model.config.vocab_size, S, T, 13);
    ids[0] = model.config.bos_token_id!;
    const sae = randomSae(d, 40, 12);
    const rec = (x: ArrayLike<number>, N: number) =>
      referenceForward(
        refWeightsFromSae(sae),
        { S: 1, T: N, d, x: Float32Array.from(x) },
        { architecture: 'relu', k: 0 },
      ).xhat;
    const ev = new LossRecoveredGpu(gpu, model, 'blocks.0.hook_resid_post', {
      S,
      T,
      weights: 'f16',
      vocabChunk: 16,
    });
    expect(ev.forward.unembed.f16).toBe(true);
    await ev.addBatch(ids, async (x, s1, t1) => Float32Array.from(rec(x, s1 * t1)));
    const ref = lossRecoveredReference(rounded, ids, S, T, 'blocks.0.hook_resid_post', rec);
    expectMeansClose(ev.metrics(), ref.metrics);
    ev.destroy();
  });

  it('exact on the GPU: identity SAE → 1 and 1, zero reconstruction → 0 and 0 (no special tokens in the rows)', async () => {
    const gpu = await getTestGpu();
    const model = randomModel({ family: 'gpt2', seed: 22 });
    const V = model.config.vocab_size;
    const ids = randomIds(V, S, T, 9).map((t) => (ignoredTokenIds(model.config).includes(t) ? 3 : t));
    const identity: ReconstructFn = async (x) => x;
    const zero: ReconstructFn = async (x) => new Float32Array(x.length);
    for (const hook of ['blocks.0.hook_resid_mid', 'blocks.0.hook_attn_out']) {
      const a = new LossRecoveredGpu(gpu, model, hook, { S, T, vocabChunk: 12 });
      await a.addBatch(ids, identity);
      const mi = a.metrics();
      expect(mi.ce_loss_score, hook).toBe(1);
      expect(mi.kl_div_score, hook).toBe(1);
      expect(mi.kl_div_with_sae).toBe(0);
      a.destroy();
      const b = new LossRecoveredGpu(gpu, model, hook, { S, T, vocabChunk: 12 });
      await b.addBatch(ids, zero);
      const mz = b.metrics();
      expect(Math.abs(mz.ce_loss_score), hook).toBe(0);
      expect(Math.abs(mz.kl_div_score), hook).toBe(0);
      expect(mz.ce_loss_with_ablation).toBe(mi.ce_loss_with_ablation);
      b.destroy();
    }
  });

  it('a 50k vocabulary: no GPU buffer of tokens × vocabulary is ever created; metrics = the reference', async () => {
    const gpu = await getTestGpu();
    const { device } = gpu;
    const V = 50257;
    const T2 = 16;
    const model = randomModel({ family: 'gpt2', seed: 23, vocab_size: V, d_model: 16, n_layers: 1 });
    const N = S * T2;
    const ids = randomIds(V, S, T2, 10);
    ids[0] = model.config.bos_token_id!;
    const halve: ReconstructFn = async (x) => x.map((v) => 0.5 * v);
    const sizes: { label: string; size: number }[] = [];
    const create = device.createBuffer.bind(device);
    device.createBuffer = (desc: GPUBufferDescriptor) => {
      sizes.push({ label: desc.label ?? '', size: desc.size });
      return create(desc);
    };
    let ev: LossRecoveredGpu;
    try {
      ev = new LossRecoveredGpu(gpu, model, 'blocks.0.hook_resid_mid', { S, T: T2 });
      await ev.addBatch(ids, halve);
    } finally {
      device.createBuffer = create;
    }
    const largest = sizes.reduce((a, b) => (b.size > a.size ? b : a));
    console.log(
      `${sizes.length} GPU buffers; largest ${largest.label} ${largest.size} bytes; tokens × vocab × 4 = ${N * V * 4}`,
    );
    expect(largest.size, largest.label).toBeLessThan(N * V * 4);
    expect(ev!.head.chunks.length).toBe(Math.ceil(V / 8192));
    const ref = lossRecoveredReference(
      model,
      ids,
      S,
      T2,
      'blocks.0.hook_resid_mid',
      (x) => x.map((v) => 0.5 * v),
      {
        chunk: 8192,
      },
    );
    const m = ev!.metrics();
    expectMeansClose(m, ref.metrics);
    ev!.destroy();
  });

  it("trainerReconstruct: a GPU SAE trainer gives the reference SAE's x̂, in the activation's units (scaling undone)", async () => {
    const gpu = await getTestGpu();
    const d = 16;
    const w = randomSae(d, 40, 8);
    const rng = new Rng(12, 5);
    const x = Float32Array.from({ length: S * T * d }, () => 3 * rng.normal());
    const want = referenceForward(refWeightsFromSae(w), { S, T, d, x }, { architecture: 'relu', k: 0 }).xhat;
    const trainer = await createTrainer(gpu, saeCfg(w), w);
    expectClose('x̂', await trainerReconstruct(trainer)(x, S, T, d), want, 1e-5, 1e-4);
    // Weights trained on s·x: x̂ = SAE(s·x)/s equals the folded SAE's x̂ on x (src/io/fold.ts).
    const s = 0.25;
    const onScaled = await trainerReconstruct(trainer, s)(
      x.map((v) => v / s),
      S,
      T,
      d,
    );
    expectClose(
      'x̂ scaled',
      onScaled,
      want.map((v) => v / s),
      1e-4,
      1e-4,
    );
    await expect(trainerReconstruct(trainer)(x, S, T + 1, d)).rejects.toThrow(
      /takes 2×8×16, the model gives 2×9×16/,
    );
    trainer.destroy();
  });

  it('evaluateLossRecovered: 5 rows in batches of 2 + a remainder of 1, an SAE trained on s·x (scaling undone) = the reference over all rows', async () => {
    const gpu = await getTestGpu();
    const model = randomModel({ family: 'llama', seed: 24 });
    const d = model.config.d_model;
    const R = 5;
    const ids = randomIds(model.config.vocab_size, R, T, 11);
    ids[0] = model.config.bos_token_id!;
    ids[2 * T + 5] = model.config.eos_token_id!;
    const w = randomSae(d, 40, 9);
    const s = 0.5;
    const hook = 'blocks.0.hook_resid_post';
    const held = { weights: unfoldInputScaling(w, s), config: saeCfg(w), scaling_factor: s };
    const done: number[] = [];
    const m = await evaluateLossRecovered(gpu, model, hook, held, ids, T, {
      batchRows: 2,
      onBatch: (r) => done.push(r),
    });
    expect(done).toEqual([2, 4, 5]);
    const ref = lossRecoveredReference(
      model,
      ids,
      R,
      T,
      hook,
      (x, N) =>
        referenceForward(
          refWeightsFromSae(w),
          { S: 1, T: N, d, x: Float32Array.from(x) },
          { architecture: 'relu', k: 0 },
        ).xhat,
    );
    expectMeansClose(m, ref.metrics);
    expect([m.ce_tokens, m.kl_tokens, m.total_tokens_eval_reconstruction]).toEqual([
      ref.metrics.ce_tokens,
      ref.metrics.kl_tokens,
      R * T,
    ]);
    // Aborted after the first batch: the promise rejects with the reason, no further batch runs.
    const stop = new AbortController();
    const seen: number[] = [];
    const aborted = evaluateLossRecovered(gpu, model, hook, held, ids, T, {
      batchRows: 2,
      signal: stop.signal,
      onBatch: (r) => (seen.push(r), stop.abort(new Error('stopped by the user'))),
    });
    await expect(aborted).rejects.toThrow(/stopped by the user/);
    expect(seen).toEqual([2]);
    await expect(evaluateLossRecovered(gpu, model, hook, held, ids.subarray(0, 7), T)).rejects.toThrow(
      /7 token ids are not whole rows of 8/,
    );
  });

  it('probeText: per-token features, reconstruction error and CE change = the reference', async () => {
    const gpu = await getTestGpu();
    const model = randomModel({ family: 'gpt2', seed: 25 });
    const d = model.config.d_model;
    const T1 = 9;
    const ids = randomIds(model.config.vocab_size, 1, T1, 12);
    ids[0] = model.config.bos_token_id!;
    const w = randomSae(d, 40, 10);
    const hook = 'blocks.1.hook_resid_pre';
    const held = {
      weights: w,
      config: { ...saeCfg(w), context_size: T1, seqs_per_batch: 1 },
      scaling_factor: 1,
    };
    const rows = await probeText(gpu, model, hook, held, ids, { topK: 3 });
    const rw = refWeightsFromSae(w);
    let sae: ReturnType<typeof referenceForward> | null = null;
    const ref = lossRecoveredReference(model, ids, 1, T1, hook, (x, N) => {
      sae = referenceForward(rw, { S: 1, T: N, d, x: Float32Array.from(x) }, { architecture: 'relu', k: 0 });
      return sae.xhat;
    });
    const want = probeTokens({
      ids,
      x: ref.x,
      xhat: sae!.xhat,
      f: sae!.f,
      d,
      m: 40,
      ceClean: ref.tokens.ceClean,
      ceSae: ref.tokens.ce[0],
      klSae: ref.tokens.kl[0],
      keep: ref.keep,
      topK: 3,
    });
    expect(rows.map((r) => r.kept)).toEqual(want.map((r) => r.kept));
    expect(rows.map((r) => r.l0)).toEqual(want.map((r) => r.l0));
    expect(rows.every((r) => r.top.length === 3)).toBe(true);
    expect(rows.map((r) => r.top.map((t) => t.feature))).toEqual(
      want.map((r) => r.top.map((t) => t.feature)),
    );
    const flat = (a: typeof rows, key: 'value' | 'delta') => a.flatMap((r) => r.top.map((t) => t[key]));
    expectClose('top values', flat(rows, 'value'), flat(want, 'value'), 1e-4, 1e-4);
    expectClose('top deltas', flat(rows, 'delta'), flat(want, 'delta'), 1e-4, 1e-4);
    expectClose(
      'recon error',
      rows.map((r) => r.reconError),
      want.map((r) => r.reconError),
      1e-5,
      1e-4,
    );
    const dce = (a: typeof rows) => a.slice(0, -1).map((r) => r.dCe);
    expectClose('ΔCE', dce(rows), dce(want), 2e-4, 2e-4);
    expect(Number.isNaN(rows[T1 - 1].dCe)).toBe(true);
    // The BOS position keeps its x: no CE change there.
    expect(rows[0].dCe).toBe(0);
  });

  it('steerGreedy: α·W_dec[i] added at the hook, greedy tokens = the reference with growing contexts; α = 0 is plain greedy', async () => {
    const gpu = await getTestGpu();
    for (const [family, hook] of [
      ['gpt2', 'blocks.0.hook_resid_post'],
      ['llama', 'blocks.1.hook_attn_out'],
    ] as const) {
      const model = randomModel({ family, seed: 26 });
      const d = model.config.d_model;
      const w = randomSae(d, 40, 11);
      const held = { weights: w, config: saeCfg(w), scaling_factor: 2 };
      const prompt = Int32Array.from([5, 9, 14]);
      const feature = 7;
      const steps = 5;
      // Reference: the context grows by one token per step (no fixed T, no filler positions).
      const reference = (alpha: number) => {
        const seq = Array.from(prompt);
        const margins: number[] = [];
        const V = model.config.vocab_size;
        for (let k = 0; k < steps; k++) {
          const ids = Int32Array.from(seq);
          const T1 = ids.length;
          const x = forwardReference(model, ids, 1, T1, { capture: [hook] }).hooks.get(hook)!;
          for (let n = 0; n < T1; n++)
            for (let j = 0; j < d; j++) x[n * d + j] += (alpha * w.W_dec[feature * d + j]) / 2;
          const z = forwardReference(model, ids, 1, T1, { patch: { hook, values: x } }).logits.subarray(
            (T1 - 1) * V,
            T1 * V,
          );
          const order = Array.from(z.keys()).sort((a, b) => z[b] - z[a] || a - b);
          margins.push(z[order[0]] - z[order[1]]);
          seq.push(order[0]);
        }
        return { ids: seq.slice(prompt.length), margins };
      };
      const plain = await steerGreedy(gpu, model, hook, held, prompt, { feature, alpha: 0, steps });
      expect(Array.from(plain), `${family} α = 0`).toEqual(Array.from(generateGreedy(model, prompt, steps)));
      const alpha = 60;
      const want = reference(alpha);
      // The comparison means something only where the reference's top two logits are apart.
      expect(Math.min(...want.margins), `${family} margins`).toBeGreaterThan(1e-3);
      const got = await steerGreedy(gpu, model, hook, held, prompt, { feature, alpha, steps });
      expect(Array.from(got), `${family} steered`).toEqual(want.ids);
      expect(Array.from(got), `${family}: steering changes the continuation`).not.toEqual(Array.from(plain));
    }
  });
});
