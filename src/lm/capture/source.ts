// Activations straight from the model into training, with no file in between: an ActivationSource
// (src/data/types.ts, what the batcher and trainer read) over packed rows of token ids whose sequences
// are computed on demand by the model's forward at one hook. Only the rows' token ids are held
// (S·T int32); each readSequences runs the forward over the rows asked for, at most `batchRows` at a
// time, so memory stays bounded by one forward batch. Token ids come from the model's own tokenizer,
// so the inspector's token text is exact; document starts follow from the BOS separators in the ids.
import type { ActivationSource } from '../../data/types';
import type { PackedRow } from '../text/pack';
import type { HookForward } from './capture';

export interface LmSourceOptions {
  name: string;
  rows: PackedRow[];
  /** Tokens per row. */
  T: number;
  /** Width of the hook (d_model). */
  d: number;
  forward: HookForward;
  /** Most rows per forward call (the GPU forward's S). */
  batchRows: number;
}

export function lmActivationSource(o: LmSourceOptions): ActivationSource & { forwards: number } {
  const { rows, T, d } = o;
  if (!rows.length) throw new Error(`${o.name}: no rows to capture`);
  for (const r of rows)
    if (r.ids.length !== T) throw new Error(`${o.name}: a row of ${r.ids.length} tokens, context size ${T}`);
  if (!(Number.isInteger(o.batchRows) && o.batchRows >= 1))
    throw new Error(`${o.name}: batchRows must be a positive integer`);
  const src = {
    name: o.name,
    numSequences: rows.length,
    seqLen: T,
    d,
    dtype: 'float32' as const,
    hasTokenIds: true,
    /** Forward calls so far (tests check the batching). */
    forwards: 0,
    async readSequences(indices: number[]) {
      for (const i of indices)
        if (!(Number.isInteger(i) && i >= 0 && i < rows.length))
          throw new Error(`${o.name}: sequence ${i} is outside 0..${rows.length - 1}`);
      const x = new Float32Array(indices.length * T * d);
      const tokenIds = new Int32Array(indices.length * T);
      indices.forEach((i, k) => tokenIds.set(rows[i].ids, k * T));
      for (let k0 = 0; k0 < indices.length; k0 += o.batchRows) {
        const n = Math.min(o.batchRows, indices.length - k0);
        const ids = tokenIds.subarray(k0 * T, (k0 + n) * T);
        x.set(await o.forward(ids, n), k0 * T * d);
        src.forwards++;
      }
      return { x, tokenIds };
    },
  };
  return src;
}

/** Collects packed rows (token ids only) from a row stream, up to `maxRows`. */
export async function collectRows(
  rows: AsyncIterable<PackedRow> | Iterable<PackedRow>,
  maxRows = Infinity,
): Promise<PackedRow[]> {
  const out: PackedRow[] = [];
  for await (const r of rows) {
    if (out.length >= maxRows) break;
    out.push(r);
  }
  return out;
}
