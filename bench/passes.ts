// Per-pass time of one SAE training step: `node scripts/run-ts.mjs bench/passes.ts [--architecture A]
// [--k N] [--d D --d-sae M --tokens N] [--repeats R]`. Timestamp queries are missing on SwiftShader, so each
// pass is recorded R times in a compute pass of its own and timed by wall clock around the awaited
// submission (after one full step, so every buffer holds a step's real values). Prints one JSON line per
// pass and a summary grouped by kernel. Passes that accumulate change their outputs; only times matter here.
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
    repeats: 5,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--architecture') o.architecture = v as Architecture;
    else if (flag === '--k') o.k = Number(v);
    else if (flag === '--d') o.d = Number(v);
    else if (flag === '--d-sae') o.m = Number(v);
    else if (flag === '--tokens') o.tokens = Number(v);
    else if (flag === '--repeats') o.repeats = Number(v);
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
  const put = (name: string, a: Float32Array | Uint32Array) =>
    q.writeBuffer(b[name], 0, a.buffer, a.byteOffset, a.byteLength);
  put('W_enc#0', w.W_enc);
  put('W_dec#0', w.W_dec);
  put('b_enc', w.b_enc);
  put('b_dec', w.b_dec);
  put('x', batch.x);
  const flags = new Uint32Array(o.tokens);
  const nValid = packRowFlags(batch.start, batch.valid, flags);
  put('rowflags', flags);
  q.writeBuffer(b.params, 0, packParams(cfg, { N: o.tokens, T: BENCH_T, nValid, lr: 1e-4, step: 1 }));
  const passes = new SaePasses(device, cfg, b, pickGemmDesign(ctx.adapter.isSwiftShader), chunks);
  const submit = async (rec: (p: GPUComputePassEncoder) => void) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    rec(pass);
    pass.end();
    q.submit([enc.finish()]);
    await q.onSubmittedWorkDone();
  };
  await submit((p) => passes.recordTrainStep(p));
  const t0 = performance.now();
  await submit((p) => passes.recordTrainStep(p));
  const stepMs = performance.now() - t0;
  const byKernel = new Map<string, number>();
  let total = 0;
  for (const op of passes.stepOps()) {
    await submit((p) => op.record(p)); // warm
    const t = performance.now();
    await submit((p) => {
      for (let r = 0; r < o.repeats; r++) op.record(p);
    });
    const ms = (performance.now() - t) / o.repeats;
    total += ms;
    const kernel = op.label.replace(/\.[rf]\d+/g, '');
    byKernel.set(kernel, (byKernel.get(kernel) ?? 0) + ms);
    console.log(JSON.stringify({ bench: 'pass', label: op.label, ms: Number(ms.toFixed(2)) }));
  }
  const kernels = [...byKernel.entries()].sort((a, b) => b[1] - a[1]);
  console.log(
    JSON.stringify({
      bench: 'passes',
      arch: cfg.architecture,
      d: o.d,
      d_sae: o.m,
      tokens: o.tokens,
      k: cfg.architecture === 'topk' ? cfg.k : undefined,
      step_ms: Number(stepMs.toFixed(1)),
      sum_of_passes_ms: Number(total.toFixed(1)),
      by_kernel: Object.fromEntries(kernels.map(([k, v]) => [k, Number(v.toFixed(1))])),
    }),
  );
  passes.destroy();
  return 0;
}
