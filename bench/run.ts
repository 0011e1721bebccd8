// `npm run bench`: every measurement as one JSON line (schema in README's Benchmarks section).
//   trainer_step  our WGSL trainer vs the tf.js WebGPU peer per case (bench/trainerCase.ts)
//   skipped       the cases not run and why (SwiftShader too slow for --cases small, or memory)
//   linearity     time when tokens double and when d_sae doubles, as ratios (2 = linear)
//   loader        data-loader tokens/s (f32/f16 .npy/.safetensors) next to the trainer's tokens/s
//   clustering    temporal clustering time, 256 features × 64k tokens
import { availableParallelism, loadavg } from 'node:os';
import { clusteringTime, loaderRates } from './extras';
import {
  LINEARITY_BASE,
  SWIFTSHADER_SMALL_FLOP,
  TRAINER_CASES,
  type BenchOptions,
  type TrainerCase,
} from './cases';
import { stepFlops } from './flops';
import { nodeGpu } from './nodeGpu';
import { registerTfjsGradients } from './tfjsNode';
import { caseConfig, runTrainerCase, type BenchEnv } from './trainerCase';
import { adapterName, requestGpu } from '../src/gpu/device';
import { planMemory } from '../src/sae/memoryPlan';

export type Emit = (line: Record<string, unknown>) => void;

/** Why a case is not run on this adapter with these options, or null to run it. */
export function skipReason(
  c: TrainerCase,
  o: Pick<BenchOptions, 'cases'>,
  isSwiftShader: boolean,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): string | null {
  const plan = planMemory(caseConfig(c), limits);
  if (!plan.fits) return `does not fit the adapter: ${plan.reason}`;
  const gflop = stepFlops(c.d, c.d_sae, c.tokens) / 1e9;
  if (o.cases === 'small' && isSwiftShader && gflop * 1e9 > SWIFTSHADER_SMALL_FLOP)
    return (
      `SwiftShader (CPU emulation) at ~3 GFLOP/s: ${gflop.toFixed(0)} GFLOP per step is ~${Math.ceil(gflop / 3)} s ` +
      `per step for our trainer and minutes for tf.js; run with --cases all to include it`
    );
  return null;
}

const doubled = (c: TrainerCase, what: 'tokens' | 'd_sae'): TrainerCase =>
  what === 'tokens' ? { ...c, tokens: 2 * c.tokens, S: 2 * c.S } : { ...c, d_sae: 2 * c.d_sae };

export async function runBench(o: BenchOptions, command: string, emitLine: Emit): Promise<void> {
  // Every line records the host's 1-minute load average per core: on a shared machine a value well
  // above 1 means the timings are inflated (both engines alike, since their windows alternate).
  const emit: Emit = (line) =>
    emitLine({ ...line, host_load_per_core: Number((loadavg()[0] / availableParallelism()).toFixed(2)) });
  const gpu = await nodeGpu();
  const ctx = await requestGpu(gpu, 'TempoSAE-bench');
  const a = ctx.adapter;
  const env: BenchEnv = {
    gpu,
    ctx,
    command,
    adapter: `${adapterName(a)} [${[a.vendor, a.architecture, a.description].filter(Boolean).join(', ')}]`,
  };
  if (o.peer) await registerTfjsGradients();
  const runCase = (c: TrainerCase) => runTrainerCase(env, c, o);

  const skipped: Record<string, unknown>[] = [];
  const timed: { c: TrainerCase; line: Record<string, unknown> }[] = [];
  for (const c of TRAINER_CASES) {
    const why = skipReason(c, o, a.isSwiftShader, ctx.limits);
    if (why) skipped.push({ d: c.d, d_sae: c.d_sae, tokens: c.tokens, reason: why });
    else {
      const line = await runCase(c);
      emit(line);
      timed.push({ c, line });
    }
  }
  if (skipped.length) emit({ bench: 'skipped', command, adapter: env.adapter, cases: skipped });

  // Linearity around the base case: a step is GEMM-bound, so time should double with tokens and with
  // d_sae; a ratio well below 2 means fixed per-step costs (dispatch, submit, uploads) still dominate.
  const base = timed.find((t) => t.c === LINEARITY_BASE)?.line ?? (await runCase(LINEARITY_BASE));
  const more = {
    tokens: await runCase(doubled(LINEARITY_BASE, 'tokens')),
    d_sae: await runCase(doubled(LINEARITY_BASE, 'd_sae')),
  };
  for (const [engine, key] of [
    ['temposae', 'ms_per_step'],
    ['tfjs-webgpu', 'peer_ms_per_step'],
  ] as const) {
    const ms = (l: Record<string, unknown>) => l[key] as number | null;
    const ratio = (l: Record<string, unknown>) => {
      const b = ms(base);
      const v = ms(l);
      return b && v ? Number((v / b).toFixed(3)) : null;
    };
    if (engine === 'tfjs-webgpu' && !o.peer) continue;
    emit({
      bench: 'linearity',
      command,
      adapter: env.adapter,
      engine,
      base: {
        d: LINEARITY_BASE.d,
        d_sae: LINEARITY_BASE.d_sae,
        tokens: LINEARITY_BASE.tokens,
        ms_per_step: ms(base),
      },
      tokens_x2: { tokens: more.tokens.tokens, ms_per_step: ms(more.tokens), ratio: ratio(more.tokens) },
      d_sae_x2: { d_sae: more.d_sae.d_sae, ms_per_step: ms(more.d_sae), ratio: ratio(more.d_sae) },
      ideal_ratio: 2,
    });
  }

  if (!o.extras) return;
  // Loader at each timed case's batch shape, so the two rates are comparable (bytes per token = 4·d).
  for (const { c, line } of timed) {
    const rates = await loaderRates(c.d, c.S, c.T);
    const trainer = line.tokens_per_s as number | null;
    const slowest = Math.min(...Object.values(rates));
    emit({
      bench: 'loader',
      command,
      d: c.d,
      S: c.S,
      T: c.T,
      tokens_per_s: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])),
      trainer_tokens_per_s: trainer,
      slowest_over_trainer: trainer ? Number((slowest / trainer).toFixed(1)) : null,
    });
  }
  emit({ bench: 'clustering', command, ...clusteringTime() });
}
