// A trained SAE as a SAELens v6 folder (SPEC §7), as a map file name → bytes that the app zips and the
// CLI writes to disk:
//   cfg.json                  SAELens v6 config, every TempoSAE hyperparameter in `metadata`
//   sae_weights.safetensors   W_enc [d, m], b_enc [m], W_dec [m, d], b_dec [d] (+ threshold [m], JumpReLU;
//                             BatchTopK: threshold = θ for every feature, as SAELens saves it), F32
//   sparsity.safetensors      sparsity [m] = log10(density + 1e-10)   (when a density is known)
//   history.json, history_train.csv, history_eval.csv   the run's metric history (when given)
// Input scaling is folded into the weights (fold.ts), so the folder maps raw activations like SAELens.
import { architectureOf } from '../sae/architectures';
import type { TrainConfig } from '../sae/config';
import type { SaeWeights } from '../sae/types';
import { foldInputScaling } from './fold';
import { historyToJson, rowsToCsv, type MetricHistory } from './history';
import { buildCfgJson, type SaeProvenance } from './saelensCfg';
import type { ByteSink } from './checkpoint';
import { safetensorsHeaderBytes, writeSafetensors, type TensorToWrite } from './safetensors';

export const CFG_FILE = 'cfg.json';
export const WEIGHTS_FILE = 'sae_weights.safetensors';
export const SPARSITY_FILE = 'sparsity.safetensors';
export const HISTORY_JSON_FILE = 'history.json';
export const HISTORY_TRAIN_CSV_FILE = 'history_train.csv';
export const HISTORY_EVAL_CSV_FILE = 'history_eval.csv';

export interface SaeExportInput {
  /**
   * Weights as the trainer holds them (on s·x when scaling_factor ≠ 1); null leaves
   * sae_weights.safetensors out, for the caller to write with streamSaeWeights (large SAEs).
   */
  weights: SaeWeights | null;
  config: TrainConfig;
  /** The run's input scaling factor s (1 when the run does not normalize). */
  scaling_factor: number;
  /** [d_sae] firing density per feature on held-out data, or null when no evaluation has run. */
  density: Float32Array | null;
  steps: number;
  tokens_seen: number;
  provenance?: SaeProvenance;
  run_name?: string;
  history?: MetricHistory;
}

/** log10(density + 1e-10), SAELens' `sparsity` tensor (SPEC §6/§7). */
export function logSparsity(density: Float32Array): Float32Array {
  const out = new Float32Array(density.length);
  for (let i = 0; i < density.length; i++) out[i] = Math.log10(density[i] + 1e-10);
  return out;
}

export function saeWeightTensors(w: SaeWeights): Record<string, TensorToWrite> {
  const { d_in: d, d_sae: m } = w;
  const t: Record<string, TensorToWrite> = {
    W_enc: { data: w.W_enc, shape: [d, m] },
    b_enc: { data: w.b_enc, shape: [m] },
    W_dec: { data: w.W_dec, shape: [m, d] },
    b_dec: { data: w.b_dec, shape: [d] },
  };
  if (w.log_threshold) t.threshold = { data: w.log_threshold.map(Math.exp), shape: [m] };
  // BatchTopK at inference is a JumpReLU with one θ (SAELens BatchTopKTrainingSAE
  // process_state_dict_for_saving_inference: threshold = θ·1).
  else if (w.topk_threshold !== undefined)
    t.threshold = { data: new Float32Array(m).fill(w.topk_threshold), shape: [m] };
  return t;
}

function checkScale(s: number) {
  if (!(s > 0) || !Number.isFinite(s))
    throw new Error(`export: scaling factor ${s} must be a positive number`);
}

export function buildSaeFolder(inp: SaeExportInput): Map<string, Uint8Array> {
  const { weights, config } = inp;
  if (weights && (weights.d_in !== config.d_in || weights.d_sae !== config.d_sae))
    throw new Error(
      `export: weights are ${weights.d_in}×${weights.d_sae} but the config says ${config.d_in}×${config.d_sae}`,
    );
  const arch = architectureOf(config);
  if (weights)
    for (const p of arch.extraParams)
      if (!weights[p]) throw new Error(`export: a ${arch.name} SAE needs its ${p}`);
  if (weights && arch.gpu.activation === 'batchtopk' && weights.topk_threshold === undefined)
    throw new Error(`export: a ${arch.name} SAE needs its inference threshold (topk_threshold)`);
  const s = inp.scaling_factor;
  checkScale(s);
  const enc = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  const cfg = buildCfgJson({
    config,
    provenance: inp.provenance,
    scaling_factor: s,
    steps: inp.steps,
    tokens_seen: inp.tokens_seen,
    run_name: inp.run_name,
  });
  files.set(CFG_FILE, enc.encode(JSON.stringify(cfg, null, 2) + '\n'));
  if (weights)
    files.set(
      WEIGHTS_FILE,
      writeSafetensors(saeWeightTensors(foldInputScaling(weights, s)), { format: 'pt' }),
    );
  if (inp.density) {
    if (inp.density.length !== config.d_sae)
      throw new Error(`export: density has ${inp.density.length} entries, d_sae is ${config.d_sae}`);
    files.set(
      SPARSITY_FILE,
      writeSafetensors({ sparsity: { data: logSparsity(inp.density), shape: [config.d_sae] } }),
    );
  }
  if (inp.history) {
    files.set(HISTORY_JSON_FILE, enc.encode(historyToJson(inp.history)));
    files.set(HISTORY_TRAIN_CSV_FILE, enc.encode(rowsToCsv(inp.history.train)));
    files.set(HISTORY_EVAL_CSV_FILE, enc.encode(rowsToCsv(inp.history.eval)));
  }
  return files;
}

/** One parameter of a trainer (its state names, BatchTopK's θ as topk_threshold [1]), read back alone. */
export type SaeTensorRead = (
  name: 'W_enc' | 'b_enc' | 'W_dec' | 'b_dec' | 'log_threshold' | 'topk_threshold',
) => Promise<Float32Array>;

/**
 * sae_weights.safetensors written tensor by tensor: each parameter is read, folded (fold.ts: W_enc·s,
 * W_dec/s, b_dec/s; threshold = exp(log_threshold), or BatchTopK's θ for every feature) and written
 * before the next is read, so a large SAE's export holds one tensor in memory. The same bytes as buildSaeFolder's weights file.
 */
export async function streamSaeWeights(
  read: SaeTensorRead,
  config: TrainConfig,
  scaling_factor: number,
  sink: ByteSink,
): Promise<void> {
  const s = scaling_factor;
  checkScale(s);
  const { d_in: d, d_sae: m } = config;
  const arch = architectureOf(config);
  const threshold = arch.extraParams.includes('log_threshold');
  const topkThreshold = arch.gpu.activation === 'batchtopk';
  type Spec = {
    name: string;
    shape: number[];
    from: Parameters<SaeTensorRead>[0];
    fold: ((v: number) => number) | null;
  };
  // fold.ts's algebra, per tensor (s = 1 changes nothing but the threshold's exp).
  const specs: Spec[] = [
    { name: 'W_enc', shape: [d, m], from: 'W_enc', fold: s === 1 ? null : (v) => v * s },
    { name: 'b_enc', shape: [m], from: 'b_enc', fold: null },
    { name: 'W_dec', shape: [m, d], from: 'W_dec', fold: s === 1 ? null : (v) => v / s },
    { name: 'b_dec', shape: [d], from: 'b_dec', fold: s === 1 ? null : (v) => v / s },
  ];
  if (threshold) specs.push({ name: 'threshold', shape: [m], from: 'log_threshold', fold: Math.exp });
  if (topkThreshold) specs.push({ name: 'threshold', shape: [m], from: 'topk_threshold', fold: null });
  await sink.write(
    safetensorsHeaderBytes(
      specs.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape })),
      { format: 'pt' },
    ),
  );
  for (const t of specs) {
    let a = await read(t.from);
    if (t.from === 'topk_threshold') {
      if (a.length !== 1) throw new Error(`export: topk_threshold has ${a.length} values, expected 1`);
      a = new Float32Array(m).fill(a[0]);
    }
    const n = t.shape.reduce((x: number, y: number) => x * y, 1);
    if (a.length !== n) throw new Error(`export: ${t.from} has ${a.length} values, expected [${t.shape}]`);
    const f = t.fold;
    if (f) for (let i = 0; i < a.length; i++) a[i] = f(a[i]);
    await sink.write(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
}
