// Which tokens count and which adjacent pairs the temporal term compares (SPEC §2, §4).
//
// Rules (the GPU kernels follow the same):
//  - A token n counts iff valid[n] = 1. N = number of valid tokens; every mean is over them, padding is
//    in no loss, no count, no gradient, no firing statistic.
//  - Token n (valid) is an effective start iff t = 0, start[n] = 1, or token n−1 is padding. (t = 0 is a
//    start even if the batch forgot to flag it; a valid token after padding — left padding — begins its
//    text, so it is treated like a document start.)
//  - D_n = f_n − f_{n−1} for valid non-start n. At an effective start, 'zero' uses D_n = f_n − 0 and
//    'skip' has no D_n. Padding tokens have no D_n.
//  - So D_next(n) (= D_{n+1}) exists iff n+1 is in the same sequence, valid and not start[n+1].
import type { ActivationBatch } from '../../data/types';
import type { SeqStartMode } from '../config';

export interface TokenPlan {
  /** Number of valid tokens (the N of every mean). */
  nValid: number;
  /** [S·T] 1 where the token counts. */
  valid: Uint8Array;
  /** [S·T] 1 where D_n exists (the term ‖D_n‖₁ is in L_temp). */
  hasD: Uint8Array;
  /** [S·T] 1 where D_n exists and compares with f_{n−1}; 0 where f_prev = 0 (a start in 'zero' mode). */
  hasPrev: Uint8Array;
}

export function planTokens(
  batch: Pick<ActivationBatch, 'S' | 'T' | 'start' | 'valid'>,
  mode: SeqStartMode,
): TokenPlan {
  const { S, T } = batch;
  const N = S * T;
  const valid = new Uint8Array(N);
  const hasD = new Uint8Array(N);
  const hasPrev = new Uint8Array(N);
  let nValid = 0;
  for (let s = 0; s < S; s++) {
    for (let t = 0; t < T; t++) {
      const n = s * T + t;
      if (!batch.valid[n]) continue;
      valid[n] = 1;
      nValid++;
      const isStart = t === 0 || batch.start[n] !== 0 || !batch.valid[n - 1];
      if (!isStart) {
        hasD[n] = 1;
        hasPrev[n] = 1;
      } else if (mode === 'zero') hasD[n] = 1;
    }
  }
  return { nValid, valid, hasD, hasPrev };
}
