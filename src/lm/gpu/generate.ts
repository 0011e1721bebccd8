// Greedy (temperature 0) generation on the GPU forward, the twin of generateGreedy in
// src/lm/reference/forward.ts: one sequence of T positions (causal attention lets the slots after the
// current token hold anything), one forward and one logits-row readback per new token.
import { argmax } from '../reference/forward';
import type { EncodeOptions, LmGpuForward } from './forward';

/**
 * Up to n new token ids after `promptIds`, each the argmax of the last position's logits, on a forward
 * built with S = 1 (its T bounds prompt + continuation). Stops early at a token in `stopAt` (not
 * returned). `encode` passes a patch (e.g. a steering vector at a hook) to every forward.
 */
export async function generateGreedyGpu(
  fwd: LmGpuForward,
  promptIds: ArrayLike<number>,
  n: number,
  opts: { stopAt?: number[]; encode?: EncodeOptions } = {},
): Promise<Int32Array> {
  if (fwd.S !== 1) throw new Error(`generateGreedyGpu: the forward must have S = 1 (got ${fwd.S})`);
  if (promptIds.length < 1) throw new Error('generateGreedyGpu: the prompt needs at least one token');
  const V = fwd.model.config.vocab_size;
  const ids = new Int32Array(fwd.T);
  const seq = Array.from(promptIds);
  if (seq.length > fwd.T)
    throw new Error(`generateGreedyGpu: a prompt of ${seq.length} tokens, T = ${fwd.T}`);
  const out: number[] = [];
  while (out.length < n && seq.length <= fwd.T) {
    ids.set(seq);
    fwd.forward(ids, opts.encode);
    const next = argmax(await fwd.readLogitsRows([seq.length - 1]), 0, V);
    if (opts.stopAt?.includes(next)) break;
    out.push(next);
    seq.push(next);
  }
  return Int32Array.from(out);
}
