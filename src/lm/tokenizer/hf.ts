// A Hugging Face tokenizer.json (with its tokenizer_config.json when there is one) as an LmTokenizer,
// through @huggingface/transformers' PreTrainedTokenizer built from the parsed JSON: local files only,
// no hub lookup. Documents are encoded without special tokens (SAELens tokenizes each document with
// prepend_bos=False and adds BOS / separators while packing, src/lm/text/pack.ts).
import { DataFileError, guarded } from '../../data/errors';
import { tokenizerTokenText, type TokenText } from '../../data/tokenText';
import type { LmTokenizer } from './types';

/** The part of transformers.js's PreTrainedTokenizer used here. */
interface HfTokenizerLike {
  encode(text: string, o: { add_special_tokens: boolean }): number[];
  decode(ids: number[], o: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  model: { tokens_to_ids: Map<string, number>; vocab?: unknown };
}

/** A special-token entry of tokenizer_config.json: a string or an AddedToken object {content, …}. */
function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return null;
}

const SPECIAL_KEYS = [
  'bos_token',
  'eos_token',
  'pad_token',
  'unk_token',
  'sep_token',
  'cls_token',
  'mask_token',
];

export async function hfTokenizer(
  json: Record<string, unknown>,
  name: string,
  config: Record<string, unknown> = {},
): Promise<LmTokenizer> {
  const { PreTrainedTokenizer } = await import('@huggingface/transformers');
  // transformers.js reads special tokens as strings or {__type: 'AddedToken'}; files also hold plain
  // {content} objects, so every special-token entry is passed as its content string.
  const cfg: Record<string, unknown> = { ...config };
  for (const k of SPECIAL_KEYS) if (k in cfg) cfg[k] = tokenContent(cfg[k]);
  const tok = (await guarded(
    name,
    'not a tokenizer this app can read',
    () => new PreTrainedTokenizer(json, cfg),
  )) as unknown as HfTokenizerLike;
  // Ids as Python's tokenizer reports them: from the config's tokens only (transformers.js would make
  // the pad token the EOS one when the config has none; SAELens's masks see pad = None then).
  const idOf = (key: string) => {
    const c = tokenContent(cfg[key]);
    return c === null ? null : (tok.model.tokens_to_ids.get(c) ?? null);
  };
  const tokenText: TokenText = await tokenizerTokenText(json, name, cfg);
  const size = Math.max(tokenText.size, tok.model.tokens_to_ids.size);
  if (size < 1) throw new DataFileError(name, 'the tokenizer has an empty vocabulary');
  return {
    name,
    kind: 'hf',
    vocabSize: size,
    bosId: idOf('bos_token'),
    eosId: idOf('eos_token'),
    padId: idOf('pad_token'),
    encode: (text) => {
      const ids = tok.encode(text, { add_special_tokens: false });
      // A tokenizer.json whose vocabulary lacks a piece its merges or pre-tokenizer make (and has no
      // unk token) encodes to undefined: a problem of the file, reported as one.
      for (const id of ids)
        if (!(Number.isInteger(id) && id >= 0 && id < size))
          throw new DataFileError(
            name,
            `the tokenizer produced token id ${id}, outside its vocabulary 0..${size - 1}`,
          );
      return ids;
    },
    decode: (ids) =>
      ids.length === 0
        ? ''
        : tok.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
    tokenText,
  };
}
