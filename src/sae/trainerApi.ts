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
  getWeights(): Promise<SaeWeights>;
  getState(): Promise<TrainerState>;
  setState(state: TrainerState): void;
  destroy(): void;
}
