// Token ids → text for the inspector. Sources, in order of preference: a dropped tokenizer.json
// (Hugging Face tokenizers format, decoded by @huggingface/transformers from the parsed JSON — no
// network, no hub lookup), a JSON vocabulary (["tok0", "tok1", …] or {"tok": id, …}), the synthetic
// dataset's own vocabulary, or nothing (the id itself is shown).
import type { ByteSource } from './byteSource';
import { DataFileError, check, guarded } from './errors';

export interface TokenText {
  /** Where the text comes from (shown in the UI). */
  readonly name: string;
  readonly kind: 'tokenizer' | 'vocabulary' | 'ids';
  /** Vocabulary size (0 when unknown). */
  readonly size: number;
  /** Text of one token; the id in brackets when unknown. */
  text(id: number): string;
}

export const MAX_TOKENIZER_BYTES = 64 << 20;

/** Shows ids as they are. */
export function idsTokenText(): TokenText {
  return { name: 'token ids', kind: 'ids', size: 0, text: (id) => `[${id}]` };
}

export function vocabularyTokenText(vocab: string[], name: string): TokenText {
  return {
    name,
    kind: 'vocabulary',
    size: vocab.length,
    text: (id) => (Number.isInteger(id) && id >= 0 && id < vocab.length ? vocab[id] : `[${id}]`),
  };
}

/** A tokenizer.json's parsed contents → TokenText through transformers.js's PreTrainedTokenizer. */
export async function tokenizerTokenText(json: Record<string, unknown>, name: string): Promise<TokenText> {
  // Imported on demand: the library is large and only needed once a tokenizer is dropped.
  const { PreTrainedTokenizer } = await import('@huggingface/transformers');
  const tok = await guarded(
    name,
    'not a tokenizer this app can read',
    () => new PreTrainedTokenizer(json, {}),
  );
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  const size = Array.isArray(vocab)
    ? vocab.length
    : vocab && typeof vocab === 'object'
      ? Object.keys(vocab).length
      : 0;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id?: unknown }[]) : [];
  const addedIds = new Set(added.map((t) => t.id).filter((i): i is number => typeof i === 'number'));
  const cache = new Map<number, string>();
  return {
    name,
    kind: 'tokenizer',
    size,
    text(id) {
      let s = cache.get(id);
      if (s === undefined) {
        try {
          // decode() turns byte-level / metaspace pieces into text ("Ġworld" → " world").
          const known = Number.isInteger(id) && id >= 0 && (size === 0 || id < size || addedIds.has(id));
          s = known
            ? tok.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false })
            : `[${id}]`;
        } catch {
          s = `[${id}]`;
        }
        cache.set(id, s);
      }
      return s;
    },
  };
}

/** Reads a dropped tokenizer.json or vocabulary JSON. */
export async function loadTokenText(src: ByteSource): Promise<TokenText> {
  check(src.size <= MAX_TOKENIZER_BYTES, src.name, `too large for a tokenizer (${src.size} bytes)`);
  const text = new TextDecoder().decode(await src.read(0, src.size));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataFileError(src.name, `not valid JSON (${(e as Error).message})`);
  }
  if (Array.isArray(json)) {
    check(
      json.every((t) => typeof t === 'string'),
      src.name,
      'a vocabulary list must hold only strings',
    );
    return vocabularyTokenText(json as string[], src.name);
  }
  check(json && typeof json === 'object', src.name, 'expected a tokenizer.json or a vocabulary');
  const obj = json as Record<string, unknown>;
  if ('model' in obj) return tokenizerTokenText(obj, src.name);
  // {"token": id} (vocab.json of GPT-2 style tokenizers).
  const entries = Object.entries(obj);
  check(
    entries.every(([, v]) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1e7),
    src.name,
    'a vocabulary object must map tokens to integer ids',
  );
  const vocab: string[] = [];
  for (const [k, v] of entries) vocab[v as number] = k;
  for (let i = 0; i < vocab.length; i++) if (vocab[i] === undefined) vocab[i] = `[${i}]`;
  return vocabularyTokenText(vocab, src.name);
}
