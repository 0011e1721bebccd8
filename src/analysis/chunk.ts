// One chunk of held-out evaluation data: whole sequences with their SAE forward pass (SPEC §2, §6).
// Every accumulator in this folder consumes chunks, so held-out sets of any size stream through in
// bounded memory: a chunk is one batch, never the whole set.
import type { EvalSums } from '../sae/trainerApi';

export interface EvalChunk {
  /** Sequences in the chunk. */
  S: number;
  /** Positions per sequence. */
  T: number;
  /** Activation width d_in. */
  d: number;
  /** Dictionary size d_sae. */
  m: number;
  /** [S·T·d] inputs. */
  x: Float32Array;
  /** [S·T·d] reconstructions x̂. */
  xhat: Float32Array;
  /** [S·T·m] feature activations f. */
  f: Float32Array;
  /** [S·T] 1 where a sequence or document starts (t = 0 or a document-start token). */
  start: Uint8Array;
  /** [S·T] 0 for padding (excluded from every metric). */
  valid: Uint8Array;
}

/**
 * SPEC §6 "valid adjacent pairs": (n−1, n) is a pair when n is not the first position of its row,
 * both tokens are real (not padding) and n does not begin a new document. The metric rule is
 * therefore 'skip' whatever seq_start_mode the loss used: a document boundary is not a change of
 * meaning we want to count.
 */
export function isValidPair(c: Pick<EvalChunk, 'start' | 'valid'>, n: number, t: number): boolean {
  return t > 0 && c.valid[n] === 1 && c.valid[n - 1] === 1 && c.start[n] === 0;
}

/** Checks the lengths of a chunk's arrays against its shape; throws naming the first mismatch. */
export function checkChunk(c: EvalChunk): void {
  const N = c.S * c.T;
  const want: [string, number, number][] = [
    ['x', c.x.length, N * c.d],
    ['xhat', c.xhat.length, N * c.d],
    ['f', c.f.length, N * c.m],
    ['start', c.start.length, N],
    ['valid', c.valid.length, N],
  ];
  for (const [name, got, exp] of want)
    if (got !== exp) throw new Error(`evaluation chunk: ${name} has ${got} values, expected ${exp}`);
}

/**
 * Checks a batch's GPU evaluation sums (EvalSums) against its flags and the accumulator's T; throws
 * naming the first mismatch.
 */
export function checkSums(
  s: EvalSums,
  flags: Pick<EvalChunk, 'S' | 'T' | 'start' | 'valid'>,
  T: number,
): void {
  const rows = flags.S * flags.T;
  if (s.T !== T || flags.T !== T) throw new Error(`evaluation sums: T is ${s.T}/${flags.T}, expected ${T}`);
  const want: [string, number, number][] = [
    ['rows', s.rows, rows],
    ['rowRecon', s.rowRecon.length, rows * 4],
    ['rowFeat', s.rowFeat.length, rows * 6],
    ['start', flags.start.length, rows],
    ['valid', flags.valid.length, rows],
    ['runs', s.runs.length, 2 * T],
  ];
  for (const [name, got, exp] of want)
    if (got !== exp) throw new Error(`evaluation sums: ${name} has ${got} values, expected ${exp}`);
}
