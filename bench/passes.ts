// Per-pass time of one SAE training step: `node scripts/run-ts.mjs bench/passes.ts [--architecture A]
// [--k N] [--d D --d-sae M --tokens N] [--repeats R] [--dead F]`. Timestamp queries are missing on SwiftShader, so each
// pass is recorded twice in a compute pass of its own and timed by wall clock around the awaited
// submission (after one full step, so every buffer holds a step's real values); the best of R rounds
// counts. For TopK the trainer's step and the same step with dense GEMMs for every product alternate
// round by round. Prints one JSON line: step time and time per kernel of each variant. Passes that
// accumulate change their outputs; only times matter here.
import { availableParallelism, loadavg } from 'node:os';
import { nodeGpu } from './nodeGpu';
import { benchBatch } from './batch';
import { BENCH_T, TRAINER_CASES } from './cases';
import { requestGpu } from '../src/gpu/device';
import { pickGemmDesign } from '../src/gpu/gemm';
import { DEFAULT_CONFIG, type Architecture, type TrainConfig } from '../src/sae/config';
import { initWeights } from '../src/sae/init';
import { planChunks } from '../src/sae/gpu/chunks';
import { allocateSaeBuffers } from '../src/sae/gpu/saeBuffers';
import { SaePasses } from '../src/sae/gpu/saePasses';
import { packParams, packRowFlags } from '../src/sae/gpu/layout';

function parse(argv: string[]) {
  const c = TRAINER_CASES[0];
  const o = {
    architecture: 'relu' as Architecture,
    k: DEFAULT_CONFIG.k,
    d: c.d,
    m: c.d_sae,
    tokens: c.tokens,
    repeats: 3,
    dead: 0,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--architecture') o.architecture = v as Architecture;
    else if (flag === '--k') o.k = Number(v);
    else if (flag === '--d') o.d = Number(v);
    else if (flag === '--d-sae') o.m = Number(v);
    else if (flag === '--tokens') o.tokens = Number(v);
    else if (flag === '--repeats') o.repeats = Number(v);
    else if (flag === '--dead') o.dead = Number(v);
    else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

export async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  const ctx = await requestGpu(await nodeGpu(), 'TempoSAE-passes');
  const device = ctx.device;
  const cfg: TrainConfig = {
    ...DEFAULT_CONFIG,
    architecture: o.architecture,
    k: o.k,
    d_in: o.d,
    d_sae: o.m,
    seqs_per_batch: o.tokens / BENCH_T,
    context_size: BENCH_T,
  };
  const chunks = planChunks(cfg, ctx.limits.maxStorageBufferBindingSize);
  if ('error' in chunks) throw new Error(chunks.error);
  const { buffers: b } = allocateSaeBuffers(device, cfg, chunks, false);
  const batch = benchBatch(cfg.seqs_per_batch, BENCH_T, o.d, 1);
  const w = initWeights(cfg, batch);
  const q = device.queue;
  if (chunks.featBlocks.length > 1 || chunks.rowBlocks.length > 1)
    throw new Error('bench/passes: this size needs split buffers; pick a smaller --d-sae or --tokens');
  const put = (buf: GPUBuffer, a: Float32Array | Uint32Array) =>
    q.writeBuffer(buf, 0, a.buffer, a.byteOffset, a.byteLength);
  put(b.param.W_enc.value[0], w.W_enc);
  put(b.param.W_dec.value[0], w.W_dec);
  put(b.param.b_enc.value[0], w.b_enc);
  put(b.param.b_dec.value[0], w.b_dec);
  put(b.x, batch.x);
  // --dead F: the first F·d_sae features count as dead, so that TopK's AuxK has work (0: none, as early on).
  const deadCount = Math.round(o.dead * o.m);
  put(
    b.tokens_since_fired,
    Float32Array.from({ length: o.m }, (_, i) => (i < deadCount ? 1e9 : 0)),
  );
  const flags = new Uint32Array(o.tokens);
  const nValid = packRowFlags(batch.start, batch.valid, flags);
  put(b.rowflags, flags);
  q.writeBuffer(b.uniform, 0, packParams(cfg, { N: o.tokens, T: BENCH_T, nValid, lr: 1e-4, step: 1 }));
  const design = pickGemmDesign(ctx.adapter.isSwiftShader);
  // TopK: the trainer's passes ('auto': sparse products) and the same step with dense GEMMs, timed in
  // alternation so that both see the same machine load.
  const variants: ['auto' | 'dense', SaePasses][] = [['auto', new SaePasses(device, cfg, b, design, chunks)]];
  if (cfg.architecture === 'topk')
    variants.push(['dense', new SaePasses(device, cfg, b, design, chunks, 'dense')]);
  const submit = async (rec: (p: GPUComputePassEncoder) => void) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    rec(pass);
    pass.end();
    q.submit([enc.finish()]);
    await q.onSubmittedWorkDone();
  };
  const timed = async (rec: (p: GPUComputePassEncoder) => void, reps: number) => {
    const t = performance.now();
    await submit((p) => {
      for (let r = 0; r < reps; r++) rec(p);
    });
    return (performance.now() - t) / reps;
  };
  for (const [, passes] of variants) await submit((p) => passes.recordTrainStep(p));
  const result: Record<string, unknown> = {};
  const stepMs = new Map<string, number>();
  const opMs = new Map<string, number[]>();
  for (let round = 0; round < o.repeats; round++)
    for (const [name, passes] of variants) {
      const ms = await timed((p) => passes.recordTrainStep(p), 1);
      stepMs.set(name, Math.min(stepMs.get(name) ?? Infinity, ms));
      const ops = passes.stepOps();
      const prev = opMs.get(name) ?? ops.map(() => Infinity);
      for (const [i, op] of ops.entries()) prev[i] = Math.min(prev[i], await timed(op.record, 2));
      opMs.set(name, prev);
    }
  for (const [name, passes] of variants) {
    const byKernel = new Map<string, number>();
    const ms = opMs.get(name)!;
    passes.stepOps().forEach((op, i) => {
      const kernel = op.label.replace(/\.[rf]\d+/g, '');
      byKernel.set(kernel, (byKernel.get(kernel) ?? 0) + ms[i]);
    });
    const kernels = [...byKernel.entries()].sort((x, y) => y[1] - x[1]);
    result[name] = {
      step_ms: Number(stepMs.get(name)!.toFixed(1)),
      sum_of_passes_ms: Number(ms.reduce((x, y) => x + y, 0).toFixed(1)),
      by_kernel: Object.fromEntries(kernels.map(([k, v]) => [k, Number(v.toFixed(1))])),
    };
    passes.destroy();
  }
  console.log(
    JSON.stringify({
      bench: 'passes',
      arch: cfg.architecture,
      d: o.d,
      d_sae: o.m,
      tokens: o.tokens,
      k: cfg.architecture === 'topk' ? cfg.k : undefined,
      dead_fraction: o.dead,
      repeats: o.repeats,
      host_load_per_core: Number((loadavg()[0] / availableParallelism()).toFixed(2)),
      ...result,
    }),
  );
  return 0;
}
