// The interface every consumer of the GPU trainer codes against (UI loop, evaluation, persistence,
// CLI, bench). The implementation lives in src/sae/trainer*.ts. Types only: no GPU code here.
import type { ActivationBatch } from '../data/types';
import type { TrainConfig } from './config';
import type { AdamState, AlphaState, SaeWeights, StepMetrics } from './types';

/** Everything needed to continue a run identically (besides the data position, which the batcher owns). */
export interface TrainerState {
  step: number;
  tokens_seen: number;
  weights: SaeWeights;
  adam: AdamState;
  alpha: AlphaState;
  /** [d_sae] tokens since each feature last fired (dead-feature tracking). */
  tokens_since_fired: Float32Array;
}

/** The scalar state of a trainer besides its tensors (a checkpoint's metadata). */
export interface TrainerCounters {
  step: number;
  tokens_seen: number;
  l_max: number | null;
}

/** Memory plan of a config on an adapter, computed before anything is allocated. */
export interface MemoryPlan {
  fits: boolean;
  /** Total bytes the trainer would allocate on the GPU. */
  bytes: number;
  /** The largest single buffer, and the binding limit it is compared with. */
  largestBuffer: { name: string; bytes: number };
  /** Why it does not fit, naming the limit (empty when it fits). */
  reason: string;
}

/** Features and reconstruction of a batch, for evaluation and the inspector. */
export interface ForwardResult {
  /** [N·d_sae] feature activations f. */
  f: Float32Array;
  /** [N·d_in] reconstruction x̂. */
  xhat: Float32Array;
}

/**
 * Held-out evaluation sums of one batch, reduced on the GPU (shaders/eval_*.wgsl): exactly the per-token,
 * per-dimension, per-feature and per-position quantities the SPEC §6 accumulators (src/analysis/
 * reconstruction.ts, sparsity.ts, temporal.ts) form from x, x̂ and f, so f and x̂ never come back.
 * Sums over the tokens of the batch are f32; the accumulators add batches in float64.
 * CPU twin: evalSumsFromChunk (src/analysis/evalPartials.ts).
 */
export interface EvalSums {
  /** Batch rows (S·T) and positions per sequence. */
  rows: number;
  T: number;
  /** [rows·4] per token: ‖x − x̂‖², ‖x‖², ‖x̂‖², x̂·x. */
  rowRecon: Float32Array | Float64Array;
  /**
   * [rows·6] per token: L0, L1, and against the previous position of its row (zeros at t = 0):
   * Σ|f − f'|, Σ|f|, |A ∩ A'|, |A ∪ A'| (A: active features). The host keeps only valid pairs.
   */
  rowFeat: Float32Array | Float64Array;
  /** [d·2] per input dimension over valid tokens: Σx, Σ(x − batch mean)². */
  xStats: Float32Array | Float64Array;
  /** [m·2] per feature over valid tokens: Σf, Σf². */
  featStats: Float32Array | Float64Array;
  /** [m·P] tokens on which each feature fired, by position bin (P = positionBins(m, T)). */
  fireByPos: Uint32Array;
  P: number;
  /** [2·T] active runs starting at each position, then the summed lengths of those runs. */
  runs: Uint32Array;
  /** [5·Q·m] lag-1 sums over valid pairs by autocorrelation bin: Σf', Σf, Σf'², Σf², Σf'f (Q = autocorrBins). */
  autocorr: Float32Array | Float64Array;
  Q: number;
}

export interface EvalForwardOptions {
  /** Features whose activations to gather for every row of the batch (clustering traces). */
  gather?: Int32Array;
  /** Compute the evaluation sums (default true; false: the gather only). */
  reduce?: boolean;
  /**
   * Also keep this batch's f on the GPU, if the trainer's evaluation cache has room, so the clustering
   * traces can be gathered later without a second forward pass (EvalPartials.kept).
   */
  keep?: boolean;
}

/** A batch's f kept on the GPU by evalForward({ keep: true }). */
export interface KeptFeatures {
  /** [K·rows] feature-major activations of `ids` for every row of the batch. */
  gather(ids: Int32Array): Promise<Float32Array>;
  /** Free the GPU memory (idempotent). */
  release(): void;
}

export interface EvalPartials {
  /** The evaluation sums (absent when `reduce: false`). */
  sums?: EvalSums;
  /** [K·rows] feature-major activations of the gathered features (when `gather` was given). */
  traces?: Float32Array;
  /** With `keep`, when the batch's f fit the evaluation cache. */
  kept?: KeptFeatures;
}

/**
 * One tensor of a trainer's state under its checkpoint name (src/io/checkpoint.ts): a parameter (W_enc,
 * b_enc, W_dec, b_dec, log_threshold), BatchTopK's inference threshold topk_threshold [1], the Adam
 * moments (adam_m.W_enc, adam_v.W_enc, …), or tokens_since_fired. All F32.
 */
/** The state tensor of BatchTopK's inference threshold θ ([1]; SaeWeights.topk_threshold). */
export const TOPK_THRESHOLD = 'topk_threshold';

export interface StateTensorInfo {
  name: string;
  shape: number[];
}

export interface SaeTrainerApi {
  readonly cfg: TrainConfig;
  /** Bytes of GPU memory this trainer allocated. */
  readonly gpuBytes: number;
  readonly step: number;
  /** Upload the batch, record one command buffer for the whole step, submit once. Never awaits the GPU. */
  trainStep(batch: ActivationBatch): void;
  /** Metrics of the most recent step (an asynchronous readback; call every `metrics_every` steps). */
  readMetrics(): Promise<StepMetrics>;
  /** Forward pass only (no training) on a batch of at most the training batch size. */
  forward(batch: ActivationBatch): Promise<ForwardResult>;
  /**
   * Forward pass plus the held-out evaluation reductions on the GPU, in one submit; reads back only
   * the sums (and the gathered traces), not f and x̂. Optional: evaluation falls back to `forward`.
   */
  evalForward?(batch: ActivationBatch, opts?: EvalForwardOptions): Promise<EvalPartials>;
  getWeights(): Promise<SaeWeights>;
  getState(): Promise<TrainerState>;
  setState(state: TrainerState): void;
  /**
   * Streamed checkpoints (optional; getState/setState otherwise): the state tensors in checkpoint order,
   * each read back or written alone, so saving or restoring holds one tensor in host memory, not the whole
   * state. setCounters ends a streamed restore (step, tokens seen, L_max; the restored state becomes the
   * one a divergence falls back to).
   */
  stateTensors?(): StateTensorInfo[];
  readStateTensor?(name: string): Promise<Float32Array>;
  /** Step, tokens seen and L_max (the checkpoint's counters; a small read of the state buffer). */
  readCounters?(): Promise<TrainerCounters>;
  writeStateTensor?(name: string, data: Float32Array): void;
  setCounters?(c: TrainerCounters): void;
  destroy(): void;
}
