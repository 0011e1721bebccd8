// Text in: documents from dropped files (or typed text), tokenized with the model's own tokenizer and
// packed into context-size rows as SAELens does, with document starts marked.
import type { ByteSource } from '../../data/byteSource';
import type { LmTokenizer } from '../tokenizer/types';
import { readDocuments, type DocumentOptions } from './documents';
import { SaeLensPacker, type PackedRow } from './pack';

export { readDocuments, textKind, type DocumentOptions, type TxtSplit } from './documents';
export { packDocuments, SaeLensPacker, type PackOptions, type PackedRow } from './pack';

export interface PackTextOptions {
  contextSize: number;
  /** SAELens prepend_bos (default true): BOS opens every row and separates documents. */
  prependBos?: boolean;
  documents?: DocumentOptions;
  /** Stop after this many rows. */
  maxRows?: number;
}

/** Rows of `contextSize` tokens from the documents of `sources` (files in order, or typed strings). */
export async function* packTexts(
  sources: (ByteSource | string)[],
  tokenizer: LmTokenizer,
  opts: PackTextOptions,
): AsyncGenerator<PackedRow> {
  const packer = new SaeLensPacker({
    contextSize: opts.contextSize,
    bosId: tokenizer.bosId,
    prependBos: opts.prependBos,
  });
  const max = opts.maxRows ?? Infinity;
  let n = 0;
  for (const src of sources) {
    const docs = typeof src === 'string' ? [src] : readDocuments(src, opts.documents);
    for await (const doc of docs) {
      for (const row of packer.push(tokenizer.encode(doc))) {
        yield row;
        if (++n >= max) return;
      }
    }
  }
}
