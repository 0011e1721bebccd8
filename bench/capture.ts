// `npm run bench` capture lines: the language model's GPU forward (src/lm/gpu/forward.ts) at the capture
// shape, up to the captured hook (stopAt, as a capture runs it) and through every logits chunk (as loss
// recovered runs it), next to the SAE trainer's tokens/s at the same width and tokens per batch, with
// the GPU memory each uses. One case per trainer case width:
//   d 64   a tiny GPT-2 (2 blocks)                            trainer case 64 × 512, 1024 tokens
//   d 512  llama2.c stories42M's shape (8 blocks, GQA 8/8)     trainer case 512 × 4096, 2048 tokens
//   d 768  GPT-2 small's shape (12 blocks, vocab 50257)        trainer case 768 × 16384, 2048 tokens
// The weights are seeded random (test/fixtures/lm/randomModel.ts): the time of a forward does not depend
// on their values. Each model runs with f32 and with f16 weights.
import { loadavg, availableParallelism } from 'node:os';
import { readBuffer } from '../src/gpu/buffers';
import { adapterName, requestGpu } from '../src/gpu/device';
import { LmGpuForward } from '../src/lm/gpu/forward';
import { planLmMemory } from '../src/lm/gpu/plan';
import type { LmConfig } from '../src/lm/types';
import { randomIds, randomModel, type RandomModelOptions } from '../test/fixtures/lm/randomModel';
import { BENCH_T, SWIFTSHADER_SMALL_FLOP, type BenchOptions } from './cases';
import { nodeGpu } from './nodeGpu';
import { msPerStep } from './timing';

type Line = Record<string, unknown>;

export interface CaptureCase {
  name: string;
  model: RandomModelOptions;
  /** Tokens per forward (S = tokens / BENCH_T sequences of BENCH_T). */
  tokens: number;
  /** The trainer case of the same width and tokens whose trainer_step line it is compared with. */
  d_sae: number;
}

export const CAPTURE_CASES: CaptureCase[] = [
  {
    name: 'tiny-gpt2',
    model: { family: 'gpt2', n_layers: 2, d_model: 64, n_heads: 4, d_mlp: 256, vocab_size: 512, n_ctx: 128 },
    tokens: 1024,
    d_sae: 512,
  },
  {
    name: 'stories42M-shape',
    model: {
      family: 'llama',
      n_layers: 8,
      d_model: 512,
      n_heads: 8,
      n_kv_heads: 8,
      d_mlp: 1376,
      vocab_size: 32000,
      n_ctx: 1024,
      rope_style: 'interleaved',
      tied: true,
    },
    tokens: 2048,
    d_sae: 4096,
  },
  {
    name: 'gpt2-small-shape',
    model: {
      family: 'gpt2',
      n_layers: 12,
      d_model: 768,
      n_heads: 12,
      d_mlp: 3072,
      vocab_size: 50257,
      n_ctx: 1024,
    },
    tokens: 2048,
    d_sae: 16384,
  },
];

/** Multiply-adds ×2 of a forward through `blocks` blocks (projections and attention), plus the unembedding. */
export function forwardFlops(c: LmConfig, S: number, T: number, blocks: number, logits: boolean): number {
  const N = S * T;
  const qd = c.n_heads * c.head_dim;
  const kvd = c.n_kv_heads * c.head_dim;
  const mlp = (c.act === 'silu' ? 3 : 2) * c.d_model * c.d_mlp;
  const proj = 2 * N * (c.d_model * qd + 2 * c.d_model * kvd + qd * c.d_model + mlp);
  // q·k and p·v over the causal triangle: T(T+1)/2 pairs per sequence and head, headDim each.
  const attn = 2 * 2 * S * c.n_heads * c.head_dim * ((T * (T + 1)) / 2);
  return blocks * (proj + attn) + (logits ? 2 * N * c.d_model * c.vocab_size : 0);
}

const round = (v: number, digits: number) => Number(v.toPrecision(digits));

/** The capture lines; `trainerLines` are the trainer_step lines this run printed (for the comparison). */
export async function runCaptureBench(
  o: Pick<BenchOptions, 'cases' | 'warmup' | 'steps' | 'repeats'>,
  command: string,
  trainerLines: Line[],
  emitLine: (line: Line) => void,
  cases: CaptureCase[] = CAPTURE_CASES,
): Promise<void> {
  const emit = (line: Line) =>
    emitLine({ ...line, host_load_per_core: Number((loadavg()[0] / availableParallelism()).toFixed(2)) });
  const ctx = await requestGpu(await nodeGpu(), 'TempoSAE-bench-capture');
  const a = ctx.adapter;
  const adapter = `${adapterName(a)} [${[a.vendor, a.architecture, a.description].filter(Boolean).join(', ')}]`;
  const skipped: Line[] = [];
  for (const cc of cases) {
    const T = Math.min(BENCH_T, cc.model.n_ctx ?? BENCH_T);
    const S = cc.tokens / T;
    // The config alone (tiny weights) to plan and count FLOPs before making the real-size weights.
    const config = randomModel({ ...cc.model, vocab_size: 8, d_mlp: 2, n_layers: 1 }).config;
    const c: LmConfig = {
      ...config,
      n_layers: cc.model.n_layers!,
      d_mlp: cc.model.d_mlp!,
      vocab_size: cc.model.vocab_size!,
    };
    const hookLayer = c.n_layers - 1;
    const hook = `blocks.${hookLayer}.hook_resid_post`;
    const flop = forwardFlops(c, S, T, c.n_layers, true);
    const plan = planLmMemory(c, S, T, ctx.limits, { captures: 1, untied: cc.model.tied === false });
    if (!plan.fits) {
      skipped.push({ name: cc.name, reason: `does not fit the adapter: ${plan.reason}` });
      continue;
    }
    if (o.cases === 'small' && a.isSwiftShader && flop > SWIFTSHADER_SMALL_FLOP) {
      skipped.push({
        name: cc.name,
        reason: `SwiftShader: ${(flop / 1e9).toFixed(0)} GFLOP per forward; run with --cases all to include it`,
      });
      continue;
    }
    const model = randomModel({ ...cc.model, seed: 1 });
    const ids = randomIds(c.vocab_size, S, T, 2);
    const trainer = trainerLines.find(
      (l) =>
        l.bench === 'trainer_step' && l.d === c.d_model && l.d_sae === cc.d_sae && l.tokens === cc.tokens,
    );
    for (const weights of ['f32', 'f16'] as const) {
      const fwd = new LmGpuForward(ctx, model, { S, T, weights, captures: [hook] });
      fwd.writeIds(ids);
      const capture = fwd.captureBuffer(hook);
      const sync = () => readBuffer(ctx.device, capture, 0, 4);
      const enc = () => ctx.device.createCommandEncoder({ label: 'bench.capture' });
      const captureEngine = { step: () => fwd.forward(null, { capture: [hook], stopAt: hook }), sync };
      const fullEngine = {
        step: () => {
          const e = enc();
          fwd.encodeForward(e);
          for (let i = 0; i < fwd.logitsChunks.length; i++) fwd.encodeLogitsChunk(e, i);
          ctx.device.queue.submit([e.finish()]);
        },
        sync: () => readBuffer(ctx.device, fwd.logits, 0, 4),
      };
      const best = async (engine: { step(): void; sync(): Promise<unknown> }) => {
        await msPerStep(engine, o.warmup, 0);
        const w: number[] = [];
        for (let r = 0; r < o.repeats; r++) w.push(await msPerStep(engine, 0, o.steps));
        return Math.min(...w);
      };
      const msCapture = await best(captureEngine);
      const msFull = await best(fullEngine);
      const trainerTps = (trainer?.tokens_per_s as number | null | undefined) ?? null;
      const captureTps = Math.round(cc.tokens / (msCapture / 1000));
      emit({
        bench: 'capture',
        command,
        adapter,
        model: cc.name,
        family: c.family,
        weights,
        n_layers: c.n_layers,
        d: c.d_model,
        vocab: c.vocab_size,
        S,
        T,
        tokens: cc.tokens,
        hook,
        warmup: o.warmup,
        steps: o.steps,
        repeats: o.repeats,
        ms_capture: round(msCapture, 4),
        capture_tokens_per_s: captureTps,
        capture_gflops: round(forwardFlops(c, S, T, hookLayer + 1, false) / 1e9 / (msCapture / 1000), 4),
        ms_forward_with_logits: round(msFull, 4),
        forward_tokens_per_s: Math.round(cc.tokens / (msFull / 1000)),
        logits_chunks: fwd.logitsChunks.length,
        gpu_bytes: fwd.plan.bytes,
        trainer_d_sae: cc.d_sae,
        trainer_tokens_per_s: trainerTps,
        trainer_gpu_bytes: (trainer?.gpu_bytes as number | null | undefined) ?? null,
        capture_over_trainer: trainerTps ? round(captureTps / trainerTps, 3) : null,
      });
      fwd.destroy();
    }
  }
  if (skipped.length) emit({ bench: 'capture_skipped', command, adapter, cases: skipped });
  ctx.device.destroy();
}
