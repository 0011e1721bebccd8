// Packing tokenized documents into rows of context_size tokens the way SAELens does
// (sae_lens/tokenization_and_batching.py concat_and_batch_sequences, called by ActivationsStore with
// begin_batch_token_id = sequence_separator_token_id = BOS when prepend_bos, else None, and
// begin_sequence_token_id = None; each document tokenized with prepend_bos=False):
//   - documents are laid end to end; an empty document adds nothing;
//   - a new row starts with BOS unless the token that would open it already is BOS (prepend_bos);
//   - a document that starts inside a row is preceded by the separator unless its first token already
//     is the separator; a separator that would be a row's last token ends the row and the document
//     opens the next row (with BOS);
//   - rows are emitted when full; the last, partial row is dropped.
// `start` marks t = 0 and each document start inside a row (its separator, or its first token when
// there is no separator), so the temporal term never pairs tokens of two documents (SPEC §2, §9).

export interface PackOptions {
  contextSize: number;
  /** BOS id: begins every row and separates documents when prependBos. */
  bosId: number | null;
  /** SAELens prepend_bos (default true). */
  prependBos?: boolean;
}

export interface PackedRow {
  /** [contextSize] token ids. */
  ids: Int32Array;
  /** [contextSize] 1 at t = 0 and where a document starts. */
  start: Uint8Array;
}

/** Streaming packer: push documents' ids, receive the rows they complete. */
export class SaeLensPacker {
  private readonly T: number;
  private readonly bos: number | null;
  private row: number[] = [];
  private rowStart: number[] = [];
  /** Rows emitted so far. */
  rows = 0;

  constructor(opts: PackOptions) {
    if (!(Number.isInteger(opts.contextSize) && opts.contextSize >= 1))
      throw new Error(`pack: context size must be a positive integer (got ${opts.contextSize})`);
    const prepend = opts.prependBos ?? true;
    if (prepend && opts.bosId === null)
      throw new Error('pack: prepend_bos needs a BOS token, and the tokenizer has none');
    // With BOS on every row, a row of one token would hold BOS alone and never advance.
    if (prepend && opts.contextSize < 2)
      throw new Error('pack: prepend_bos needs a context size of at least 2');
    this.T = opts.contextSize;
    this.bos = prepend ? opts.bosId : null;
  }

  private emit(out: PackedRow[]) {
    const start = new Uint8Array(this.T);
    start[0] = 1;
    for (const p of this.rowStart) start[p] = 1;
    out.push({ ids: Int32Array.from(this.row), start });
    this.row = [];
    this.rowStart = [];
    this.rows++;
  }

  /** Adds one document's ids; returns the rows it completed (in order). */
  push(doc: ArrayLike<number>): PackedRow[] {
    const out: PackedRow[] = [];
    const T = this.T;
    const bos = this.bos;
    let offset = 0;
    while (doc.length - offset > 0) {
      const first = doc[offset];
      // A document that starts inside a row (only a document's first token can) is a document start.
      if (this.row.length > 0) this.rowStart.push(this.row.length);
      // A new row begins with BOS, and a document inside a row with the separator (also BOS), unless
      // the token about to be placed already is BOS.
      if (bos !== null && first !== bos) this.row.push(bos);
      const take = Math.max(T - this.row.length, 0);
      for (let i = 0; i < take && offset < doc.length; i++) this.row.push(doc[offset++]);
      if (this.row.length === T) this.emit(out);
    }
    return out;
  }

  /** Tokens waiting in the partial row (dropped at the end, as SAELens drops them). */
  get pending(): number {
    return this.row.length;
  }
}

/** All rows of a set of documents (the final partial row dropped). */
export function packDocuments(docs: Iterable<ArrayLike<number>>, opts: PackOptions): PackedRow[] {
  const p = new SaeLensPacker(opts);
  const rows: PackedRow[] = [];
  for (const d of docs) rows.push(...p.push(d));
  return rows;
}
