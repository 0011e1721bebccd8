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
import { nodeGpu, SWIFTSHADER_ICD } from './nodeGpu';
import { registerTfjsGradients } from './tfjsNode';
import { caseConfig, runTrainerCase, type BenchEnv } from './trainerCase';
import { adapterName, requestGpu } from '../src/gpu/device';
import { planMemory } from '../src/sae/memoryPlan';

export type Emit = (line: Record<string, unknown>) => void;

/** Why a case is not run on this adapter with these options, or null to run it. */
export function skipReason(
  c: TrainerCase,
  o: Pick<BenchOptions, 'cases' | 'architecture' | 'k' | 'maxGflop'>,
  isSwiftShader: boolean,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): string | null {
  const plan = planMemory(caseConfig(c, o), limits);
  if (!plan.fits) return `does not fit the adapter: ${plan.reason}`;
  const gflop = stepFlops(c.d, c.d_sae, c.tokens) / 1e9;
  if (o.maxGflop !== undefined && gflop > o.maxGflop)
    return `${gflop.toFixed(0)} GFLOP per step is above --max-gflop ${o.maxGflop}`;
  if (o.cases === 'small' && isSwiftShader && gflop * 1e9 > SWIFTSHADER_SMALL_FLOP)
    return (
      `SwiftShader (CPU emulation): ${gflop.toFixed(0)} GFLOP per step is at least ~${Math.ceil(gflop / 3)} s ` +
      `at its best GEMM rate (~3 GFLOP/s) and minutes in practice, for each engine; ` +
      `run with --cases all to include it`
    );
  return null;
}

const doubled = (c: TrainerCase, what: 'tokens' | 'd_sae'): TrainerCase =>
  what === 'tokens' ? { ...c, tokens: 2 * c.tokens, S: 2 * c.S } : { ...c, d_sae: 2 * c.d_sae };

type Line = Record<string, unknown>;

/**
 * Linearity lines from three trainer_step lines: a step is GEMM-bound, so its time should double with
 * tokens and with d_sae; a ratio well below 2 means fixed per-step costs (dispatch, submit, uploads)
 * still dominate at that size.
 */
export function linearityLines(base: Line, tokensX2: Line, dSaeX2: Line, withPeer: boolean): Line[] {
  const engines = [['temposae', 'ms_per_step'] as const, ['tfjs-webgpu', 'peer_ms_per_step'] as const];
  return engines.slice(0, withPeer ? 2 : 1).map(([engine, key]) => {
    const ms = (l: Line) => (l[key] as number | null) ?? null;
    const ratio = (l: Line) => {
      const [b, v] = [ms(base), ms(l)];
      return b && v ? Number((v / b).toFixed(3)) : null;
    };
    return {
      bench: 'linearity',
      command: base.command,
      adapter: base.adapter,
      engine,
      base: { d: base.d, d_sae: base.d_sae, tokens: base.tokens, ms_per_step: ms(base) },
      tokens_x2: { tokens: tokensX2.tokens, ms_per_step: ms(tokensX2), ratio: ratio(tokensX2) },
      d_sae_x2: { d_sae: dSaeX2.d_sae, ms_per_step: ms(dSaeX2), ratio: ratio(dSaeX2) },
      ideal_ratio: 2,
    };
  });
}

/** The loader at a timed case's batch shape, so the two rates are comparable (bytes per token = 4·d). */
async function loaderLine(c: TrainerCase, trainerLine: Line): Promise<Line> {
  const rates = await loaderRates(c.d, c.S, c.T);
  const trainer = trainerLine.tokens_per_s as number | null;
  const slowest = Math.min(...Object.values(rates));
  return {
    bench: 'loader',
    command: trainerLine.command,
    d: c.d,
    S: c.S,
    T: c.T,
    tokens_per_s: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])),
    trainer_tokens_per_s: trainer,
    slowest_over_trainer: trainer ? Number((slowest / trainer).toFixed(1)) : null,
  };
}

async function benchEnv(command: string, adapter: BenchOptions['adapter']): Promise<BenchEnv> {
  const gpu = await nodeGpu({ swiftshader: adapter === 'swiftshader' });
  const ctx = await requestGpu(gpu, 'TempoSAE-bench');
  const a = ctx.adapter;
  if (adapter === 'swiftshader' && !a.isSwiftShader)
    throw new Error(`--adapter swiftshader: got ${adapterName(a)} (is ${SWIFTSHADER_ICD} installed?)`);
  const details = [a.vendor, a.architecture, a.description].filter(Boolean).join(', ');
  return { gpu, ctx, command, adapter: `${adapterName(a)} [${details}]` };
}

export async function runBench(o: BenchOptions, command: string, emitLine: Emit): Promise<void> {
  // Every line records the host's 1-minute load average per core: on a shared machine a value well
  // above 1 means the timings are inflated (both engines alike, since their windows alternate).
  const emit: Emit = (line) =>
    emitLine({ ...line, host_load_per_core: Number((loadavg()[0] / availableParallelism()).toFixed(2)) });
  const env = await benchEnv(command, o.adapter);
  if (o.peer) await registerTfjsGradients();
  const runCase = (c: TrainerCase) => runTrainerCase(env, c, o);

  const skipped: Line[] = [];
  const timed: { c: TrainerCase; line: Line }[] = [];
  // --case: that one case, whatever its size (only the memory plan and --max-gflop can skip it).
  for (const c of o.only ? [o.only] : TRAINER_CASES) {
    const why = skipReason(
      c,
      o.only ? { ...o, cases: 'all' } : o,
      env.ctx.adapter.isSwiftShader,
      env.ctx.limits,
    );
    if (why) skipped.push({ d: c.d, d_sae: c.d_sae, tokens: c.tokens, reason: why });
    else {
      const line = await runCase(c);
      emit(line);
      timed.push({ c, line });
    }
  }
  if (skipped.length) emit({ bench: 'skipped', command, adapter: env.adapter, cases: skipped });

  if (o.linearity !== false) {
    const around = o.only ?? LINEARITY_BASE;
    const base = timed.find((t) => t.c === around)?.line ?? (await runCase(around));
    const tokensX2 = await runCase(doubled(around, 'tokens'));
    const dSaeX2 = await runCase(doubled(around, 'd_sae'));
    for (const line of linearityLines(base, tokensX2, dSaeX2, o.peer)) emit(line);
  }

  if (!o.extras) return;
  for (const { c, line } of timed) emit(await loaderLine(c, line));
  emit({ bench: 'clustering', command, ...clusteringTime() });
}
