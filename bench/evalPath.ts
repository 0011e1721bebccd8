// `node scripts/run-ts.mjs bench/evalPath.ts [--d-sae 512] [--steps 30] [--repeats 2]`: held-out
// evaluation wall time and bytes read back, CPU reductions (trainer.forward: f and x̂ come back) vs GPU
// reductions (trainer.evalForward: per-batch sums, then K × tokens for the clustering traces, gathered
// from f kept on the GPU or from a second forward pass), on the app's default built-in config
// (builtin:default data, DEFAULT_CONFIG shape, SYNTHETIC_RECOMMENDED λ1/lr).
// Prints one JSON line per path and one with the largest metric difference between them.
import { availableParallelism, loadavg } from 'node:os';
import { evaluateHeldOut, type EvalResult } from '../src/analysis/evaluate';
import { openCliData, BUILTIN_DATA_SEED } from '../src/cli/data';
import type { ActivationBatch } from '../src/data/types';
import { SYNTHETIC_RECOMMENDED } from '../src/data/synthetic';
import { adapterName, requestGpu } from '../src/gpu/device';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/sae/config';
import { initWeights } from '../src/sae/init';
import { openRunBatcher } from '../src/sae/runBatcher';
import { createTrainer } from '../src/sae/trainer';
import { nodeGpu } from './nodeGpu';

const MAX_EVAL_BATCHES = 32; // as src/app/evaluation.ts

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}

const bytesOf = (...a: (ArrayBufferView | undefined)[]) => a.reduce((s, x) => s + (x?.byteLength ?? 0), 0);

export async function main(argv: string[]): Promise<number> {
  const gpu = await requestGpu(await nodeGpu(), 'TempoSAE-bench');
  const cfg: TrainConfig = {
    ...DEFAULT_CONFIG,
    ...SYNTHETIC_RECOMMENDED.default,
    d_sae: arg(argv, 'd-sae', DEFAULT_CONFIG.d_sae),
    doc_start_token_ids: [0],
  };
  const data = await openCliData({ builtin: 'default', seed: BUILTIN_DATA_SEED });
  const batcher = await openRunBatcher(data.source, cfg);
  const first = await batcher.next();
  const trainer = await createTrainer(gpu, cfg, initWeights(cfg, first));
  const steps = arg(argv, 'steps', 30);
  for (let s = 0; s < steps; s++) trainer.trainStep(s === 0 ? first : await batcher.next());
  await trainer.readMetrics();
  const heldOut: ActivationBatch[] = [];
  for await (const b of batcher.heldOutBatches()) {
    if (heldOut.length >= MAX_EVAL_BATCHES) break;
    heldOut.push(b);
  }
  const opts = {
    d_sae: cfg.d_sae,
    groundTruth: { ...data.truth!, W_dec: () => trainer.getWeights().then((w) => w.W_dec) },
  };
  const tokens = heldOut.reduce((s, b) => s + b.valid.reduce((a, v) => a + v, 0), 0);
  const repeats = arg(argv, 'repeats', 2);
  const results: Record<string, EvalResult> = {};
  const best = { cpu: [] as number[], gpu: [] as number[] };
  const read = { cpu: 0, gpu: 0 };
  // The two paths alternate (cpu, gpu, cpu, …) so that a change of host load hits both; best window counts.
  for (let r = 0; r < repeats; r++)
    for (const path of ['cpu', 'gpu'] as const) {
      let bytes = 0;
      const t0 = performance.now();
      results[path] = await evaluateHeldOut(
        async (b) => {
          const res = await trainer.forward(b);
          bytes += bytesOf(res.f, res.xhat);
          return res;
        },
        () => heldOut,
        path === 'cpu'
          ? opts
          : {
              ...opts,
              evalForward: async (b, o) => {
                const res = await trainer.evalForward(b, o);
                const s = res.sums;
                // Traces gathered later from f kept on the GPU count as read back too.
                const k = res.kept;
                if (k)
                  res.kept = {
                    release: () => k.release(),
                    gather: async (ids) => {
                      const tr = await k.gather(ids);
                      bytes += tr.byteLength;
                      return tr;
                    },
                  };
                bytes += bytesOf(
                  res.traces,
                  s?.rowRecon,
                  s?.rowFeat,
                  s?.xStats,
                  s?.featStats,
                  s?.fireByPos,
                  s?.runs,
                  s?.autocorr,
                );
                return res;
              },
            },
      );
      best[path].push(Math.round(performance.now() - t0));
      read[path] = bytes;
    }
  for (const path of ['cpu', 'gpu'] as const)
    console.log(
      JSON.stringify({
        bench: 'eval_path',
        path,
        adapter: adapterName(gpu.adapter),
        d_in: cfg.d_in,
        d_sae: cfg.d_sae,
        batches: heldOut.length,
        tokens,
        clusterK: 128,
        ms: Math.min(...best[path]),
        ms_windows: best[path],
        readback_bytes: read[path],
        host_load_per_core: loadavg()[0] / availableParallelism(),
      }),
    );
  let worst = 0,
    worstKey = '';
  for (const [k, v] of Object.entries(results.cpu.metrics)) {
    const g = results.gpu.metrics[k as keyof EvalResult['metrics']] as number;
    const rel = Math.abs(g - v) / Math.max(1e-12, Math.abs(v));
    if (rel > worst) [worst, worstKey] = [rel, k];
  }
  const sameClusters =
    JSON.stringify(results.cpu.clustering?.features) === JSON.stringify(results.gpu.clustering?.features);
  console.log(
    JSON.stringify({ bench: 'eval_path_diff', max_rel_metric_diff: worst, metric: worstKey, sameClusters }),
  );
  trainer.destroy();
  return 0;
}
