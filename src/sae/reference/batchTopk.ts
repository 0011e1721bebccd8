// BatchTopK (Bussmann et al. 2024, "BatchTopK Sparse Autoencoders") in float64, as the T-SAE code trains
// it (AI4LIFE-GROUP/temporal-saes, dictionary_learning/dictionary_learning/trainers/batch_top_k.py and
// temporal_sequence_top_k.py, encode(use_threshold=False) / update_threshold):
//
//   training   r = ReLU(pre); keep the k·N largest entries of r over the WHOLE batch (N valid tokens),
//              f = r there, else 0. Ties: by (value descending, flat index n·m + i ascending), the
//              rule our row TopK uses (forward.ts). Entries with r = 0 are never active (they would
//              add nothing and pass no gradient), so the batch may hold fewer than k·N.
//   threshold  on every step whose 0-based index is > threshold_start_step (the code's
//              `if step > self.threshold_start_step`, default 1000), from the step's training f:
//              θ_min = min over valid tokens of the positive f (0 if none);
//              θ ← θ_min on the first update (the code's θ < 0 sentinel), else β·θ + (1 − β)·θ_min,
//              β = threshold_beta = 0.999.
//   inference  f = r·[r > θ] (encode(use_threshold=True)) — a JumpReLU with the same θ for every
//              feature, which is how SAELens saves a BatchTopK SAE (BatchTopKTrainingSAE
//              process_state_dict_for_saving_inference: architecture "jumprelu", threshold = θ·1).
//              Before the first threshold update (θ unset; the code's θ = −1) the code's inference is a
//              plain ReLU; we use the batch rule instead, so an early evaluation is at L0 ≈ k.
// Gradients pass to pre where f is active (the selection is a fixed mask in backward, as torch's
// scatter of topk values does).

export interface BatchTopkThreshold {
  /** θ, or null before the first update. */
  theta: number | null;
}

/** [N·m] active mask of BatchTopK over the valid rows of pre (k per valid token on average). */
export function batchTopkActive(
  pre: ArrayLike<number>,
  N: number,
  m: number,
  k: number,
  valid: ArrayLike<number>,
): Uint8Array {
  const active = new Uint8Array(N * m);
  let nValid = 0;
  const cand: number[] = [];
  for (let n = 0; n < N; n++) {
    if (!valid[n]) continue;
    nValid++;
    for (let i = 0; i < m; i++) if (pre[n * m + i] > 0) cand.push(n * m + i);
  }
  cand.sort((a, b) => pre[b] - pre[a] || a - b);
  const K = Math.min(k * nValid, cand.length);
  for (let j = 0; j < K; j++) active[cand[j]] = 1;
  return active;
}

/** The value that the k·N-th largest positive entry has (the batch's effective threshold; 0 if none). */
export function batchTopkMinActive(
  f: ArrayLike<number>,
  N: number,
  m: number,
  valid: ArrayLike<number>,
): number {
  let mn = Infinity;
  for (let n = 0; n < N; n++) {
    if (!valid[n]) continue;
    for (let i = 0; i < m; i++) {
      const v = f[n * m + i];
      if (v > 0 && v < mn) mn = v;
    }
  }
  return Number.isFinite(mn) ? mn : 0;
}

/** One threshold update (update_threshold), given the step's training f. */
export function updateBatchTopkThreshold(
  s: BatchTopkThreshold,
  minActive: number,
  beta: number,
): BatchTopkThreshold {
  return { theta: s.theta === null ? minActive : beta * s.theta + (1 - beta) * minActive };
}

/** Inference mask f = r·[r > θ]: a JumpReLU with one θ (strict, as SAELens's JumpReLU). */
export function thresholdActive(pre: ArrayLike<number>, theta: number): Uint8Array {
  const a = new Uint8Array(pre.length);
  const t = Math.max(theta, 0);
  for (let k = 0; k < pre.length; k++) a[k] = pre[k] > t ? 1 : 0;
  return a;
}

/** The JumpReLU threshold vector a BatchTopK SAE is saved with (SAELens: θ for every feature). */
export function batchTopkExportThreshold(theta: number, m: number): Float32Array {
  return new Float32Array(m).fill(Math.max(theta, 0));
}
