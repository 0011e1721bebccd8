// How a run's config becomes batcher options: one mapping shared by the app, the CLI's train and its
// eval, so the three read the same batches for the same config (and a resumed run continues exactly).
import { createBatcher, type Batcher, type BatcherOptions, type BatcherState } from '../data/batcher';
import type { ActivationSource } from '../data/types';
import type { TrainConfig } from './config';

/** Share of a dataset's sequences held out for evaluation (never trained on). */
export const HELD_OUT_FRACTION = 0.1;

export function batcherOptionsFor(cfg: TrainConfig, extra: Partial<BatcherOptions> = {}): BatcherOptions {
  return {
    seqsPerBatch: cfg.seqs_per_batch,
    contextSize: cfg.context_size,
    seed: cfg.seed,
    heldOutFraction: HELD_OUT_FRACTION,
    docStartTokenIds: cfg.doc_start_token_ids,
    padTokenId: cfg.pad_token_id,
    normalize: cfg.normalize_activations,
    ...extra,
  };
}

export function openRunBatcher(
  source: ActivationSource,
  cfg: TrainConfig,
  resume?: BatcherState,
): Promise<Batcher> {
  return createBatcher(source, batcherOptionsFor(cfg, { resume }));
}
