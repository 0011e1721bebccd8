// The contract between data sources, the batcher and the trainer (SPEC §2).
// A batch is S whole sequences × T consecutive positions; row n = s·T + t. Tokens inside a sequence
// are never reordered.

export interface ActivationBatch {
  /** Sequences in the batch. */
  S: number;
  /** Positions per sequence. */
  T: number;
  /** Activation width. */
  d: number;
  /** [S·T·d] activations, float32 (already scaled if the run normalizes). */
  x: Float32Array;
  /** [S·T] 1 where start(n): t = 0 or a document-start token. */
  start: Uint8Array;
  /** [S·T] 0 for padding tokens (excluded from every loss and metric), else 1. */
  valid: Uint8Array;
  /** [S·T] token ids when the data has them. */
  tokenIds?: Int32Array;
  /** [S] index of each sequence in its dataset (for the inspector and for reproducibility checks). */
  seqIndex: Int32Array;
  /** [S] position in its source sequence of each batch sequence's t = 0 (non-zero when a long
   * source sequence is cut into windows of T). */
  posOffset?: Int32Array;
}

export type SourceDtype = 'float32' | 'float16' | 'bfloat16';

/** Random access to whole sequences of one dataset (a file, a folder of files, or the synthetic generator). */
export interface ActivationSource {
  /** Shown in the UI and in error messages. */
  name: string;
  numSequences: number;
  /** Tokens per sequence. */
  seqLen: number;
  /** Activation width. */
  d: number;
  dtype: SourceDtype;
  hasTokenIds: boolean;
  /**
   * Read whole sequences (by index) into float32. Returns [count·seqLen·d] activations and, when the
   * source has them, [count·seqLen] token ids.
   */
  readSequences(indices: number[]): Promise<{ x: Float32Array; tokenIds?: Int32Array }>;
  /**
   * Optional: read only positions [offset, offset + length) of each sequence (same layout as
   * readSequences with seqLen = length). Lets the batcher cut long sequences into windows without
   * reading the whole sequence for each window.
   */
  readWindows?(
    windows: { seq: number; offset: number }[],
    length: number,
  ): Promise<{ x: Float32Array; tokenIds?: Int32Array }>;
}
