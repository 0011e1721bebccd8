// The learning-rate schedule (SPEC §5): one small pure function, nanoGPT style.
//
// `step` is the 0-based index of the optimizer step about to be taken (= the number of steps already
// done, TrainerState.step before the update). Shape, following SAELens `get_lr_scheduler`:
//   warmup   step < W:        lr · (step + 1) / W        (torch LinearLR from 1/W to 1 over W steps)
//   constant step ≥ W:        lr
//   cosine   W ≤ step < total: lr_end + (lr − lr_end) · ½(1 + cos(π · (step − W) / (total − W)))
//            step ≥ total:     lr_end                     with lr_end = lr · lr_end_fraction
// (torch CosineAnnealingLR with T_max = total − W, eta_min = lr_end), total = totalSteps(cfg).
import { totalSteps, type TrainConfig } from './config';

export type ScheduleConfig = Pick<
  TrainConfig,
  | 'lr'
  | 'lr_warm_up_steps'
  | 'lr_schedule'
  | 'lr_end_fraction'
  | 'training_tokens'
  | 'seqs_per_batch'
  | 'context_size'
>;

/** Learning rate of the optimizer step with 0-based index `step`. */
export function lrAt(step: number, cfg: ScheduleConfig): number {
  const W = Math.max(0, Math.floor(cfg.lr_warm_up_steps));
  if (step < W) return (cfg.lr * (step + 1)) / W;
  if (cfg.lr_schedule === 'constant') return cfg.lr;
  const total = totalSteps(cfg as TrainConfig);
  const lrEnd = cfg.lr * cfg.lr_end_fraction;
  const span = total - W;
  if (span <= 0 || step >= total) return lrEnd;
  const progress = (step - W) / span;
  return lrEnd + (cfg.lr - lrEnd) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
