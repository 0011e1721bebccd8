// A small in-page (or Node) check that the GPU trainer on *this* device computes what the float64
// reference computes: one whole training step per architecture, comparing the loss terms, α, L_max and
// every projected gradient. Used by kernel-test.html (and its e2e test) to prove the built app's WGSL
// runs correctly on the browser's WebGPU, not only on Dawn in Node.
import { ARCHITECTURE_IDS } from './architectures';
import { Rng } from '../data/rng';
import type { ActivationBatch } from '../data/types';
import type { GpuContext } from '../gpu/device';
import { DEFAULT_CONFIG, type Architecture, type TrainConfig } from './config';
import { initWeights } from './init';
import { initRefState, referenceStep } from './reference';
import { createTrainer } from './trainer';

export interface ParityCase {
  architecture: Architecture;
  ok: boolean;
  /** Largest |gpu − ref| / (atol + rtol·|ref|) over everything compared (≤ 1 passes). */
  worst: number;
  /** What the worst value was (e.g. 'grad W_enc[17]'). */
  worstAt: string;
  ms: number;
}

export interface ParityReport {
  ok: boolean;
  adapter: string;
  gemmDesign: string;
  cases: ParityCase[];
}

function batchFor(cfg: TrainConfig, seed: number): ActivationBatch {
  const { seqs_per_batch: S, context_size: T, d_in: d } = cfg;
  const rng = new Rng(seed, 21);
  const x = new Float32Array(S * T * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() + 0.3;
  const start = new Uint8Array(S * T);
  for (let s = 0; s < S; s++) start[s * T] = 1;
  start[T + 3] = 1; // a document start mid-sequence
  const valid = new Uint8Array(S * T).fill(1);
  valid[S * T - 1] = 0; // a padding token
  return { S, T, d, x, start, valid, seqIndex: Int32Array.from({ length: S }, (_, s) => s) };
}

/** Tolerances as in test/gpu/trainerStep.test.ts: losses rtol 1e-4, gradients atol 1e-5 + rtol 1e-3. */
export async function runParityCheck(gpu: GpuContext): Promise<ParityReport> {
  const cases: ParityCase[] = [];
  let gemmDesign = '';
  for (const architecture of ARCHITECTURE_IDS) {
    const t0 = performance.now();
    const cfg: TrainConfig = {
      ...DEFAULT_CONFIG,
      architecture,
      d_in: 16,
      d_sae: 48,
      k: 6, // ≤ d_sae/8: TopK's sparse products run (topkSparse in src/sae/gpu/layout.ts)
      seqs_per_batch: 2,
      context_size: 8,
      jumprelu_init_threshold: 0.3,
      jumprelu_bandwidth: 0.4,
      temporal_coefficient: 0.5,
      l1_coefficient: 0.1,
      lr: 1e-2,
    };
    const batch = batchFor(cfg, 11);
    const w0 = initWeights(cfg, batch);
    const trainer = await createTrainer(gpu, cfg, w0);
    gemmDesign = trainer.gemmDesign;
    trainer.trainStep(batch);
    const got = await trainer.readMetrics();
    const ref = referenceStep(initRefState(w0), batch, cfg);
    let worst = 0;
    let worstAt = '';
    const check = (name: string, a: ArrayLike<number>, e: ArrayLike<number>, atol: number, rtol: number) => {
      if (a.length !== e.length) {
        worst = Infinity;
        worstAt = `${name}: length ${a.length} ≠ ${e.length}`;
        return;
      }
      for (let i = 0; i < e.length; i++) {
        const r = Math.abs(a[i] - e[i]) / (atol + rtol * Math.abs(e[i]));
        if (!(r <= worst)) {
          worst = Number.isNaN(r) ? Infinity : r;
          worstAt = `${name}[${i}] gpu=${a[i]} ref=${e[i]}`;
        }
      }
    };
    for (const key of ['l_recon', 'l_sparse', 'l_temp', 'loss', 'alpha', 'l_max', 'l0', 'grad_norm'] as const)
      check(key, [got[key]], [ref.metrics[key]], 1e-5, 1e-4);
    for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const) {
      const g = ref.grads[p];
      if (g) check(`grad ${p}`, await trainer.readRaw(`grad_${p}`), g, 1e-5, 1e-3);
    }
    trainer.destroy();
    cases.push({ architecture, ok: worst <= 1, worst, worstAt, ms: performance.now() - t0 });
  }
  const a = gpu.adapter;
  return {
    ok: cases.every((c) => c.ok),
    adapter: a.isSwiftShader ? 'SwiftShader' : a.description || a.vendor,
    gemmDesign,
    cases,
  };
}
