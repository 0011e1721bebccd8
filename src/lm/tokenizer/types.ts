// What packing, capture and the probe need of a language model's tokenizer, whichever file it came
// from (llama2.c tokenizer.bin or Hugging Face tokenizer.json).
import type { TokenText } from '../../data/tokenText';

export interface LmTokenizer {
  /** The file it came from, for messages and the UI. */
  readonly name: string;
  readonly kind: 'llama2c' | 'hf';
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** A document's text → ids, without BOS / EOS (SAELens: to_tokens(text, prepend_bos=False)). */
  encode(text: string): number[];
  /** Ids → text. */
  decode(ids: ArrayLike<number>): string;
  /** Per-token text for the inspector (the app's TokenText). */
  readonly tokenText: TokenText;
}
