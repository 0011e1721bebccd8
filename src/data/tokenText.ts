// Token ids → text, one path for every source (issue 10): a dropped tokenizer.json (Hugging Face
// tokenizers format, decoded by @huggingface/transformers from the parsed JSON — no network, no hub
// lookup), a JSON vocabulary (["tok0", "tok1", …] or {"tok": id, …}), the built-in dataset's own
// vocabulary, or nothing (the id itself is shown, in brackets).
// Text is what the token stands for in the running text: byte-level pieces are decoded ("Ġworld" →
// " world", "Ċ" → "\n"), SentencePiece's "▁" is a space and its byte pieces ("<0x0A>") are bytes.
// Special tokens (BOS/EOS/pad/unk…) are flagged so that a view can mark them. How text is *shown*
// (visible spaces and newlines) is src/analysis/tokenDisplay.ts.
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
  /** Whether the text of `id` is known (false: text(id) is the `[id]` placeholder). */
  known(id: number): boolean;
  /** BOS/EOS/pad/unk and other control tokens. */
  special(id: number): boolean;
}

export const MAX_TOKENIZER_BYTES = 64 << 20;
/** Largest vocabulary accepted (ids beyond it are taken as a corrupt file). */
export const MAX_VOCAB = 1 << 22;

const placeholder = (id: number) => `[${id}]`;

/** Shows ids as they are. */
export function idsTokenText(): TokenText {
  return {
    name: 'token ids',
    kind: 'ids',
    size: 0,
    text: placeholder,
    known: () => false,
    special: () => false,
  };
}

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 are shifted to 256+.
let byteOfChar: Map<string, number> | null = null;
function byteLevelTable(): Map<string, number> {
  if (byteOfChar) return byteOfChar;
  const m = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    m.set(String.fromCodePoint(printable ? b : 256 + extra++), b);
  }
  return (byteOfChar = m);
}

/** Bytes → text; bytes that are not whole UTF-8 characters (a piece of a split character) as \xNN. */
function utf8OrHex(bytes: number[]): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return bytes
      .map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
      .join('');
  }
}

/** A GPT-2 style byte-level piece → its text; null when a character is outside the byte alphabet. */
export function decodeByteLevel(piece: string): string | null {
  const table = byteLevelTable();
  const bytes: number[] = [];
  for (const ch of piece) {
    const b = table.get(ch);
    if (b === undefined) return null;
    bytes.push(b);
  }
  return utf8OrHex(bytes);
}

/** A SentencePiece piece → text: "▁" is a space, "<0x0A>" a byte. */
export function decodeSentencePiece(piece: string): string {
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  if (m) return utf8OrHex([parseInt(m[1], 16)]);
  return piece.replace(/▁/g, ' ');
}

const SPECIAL_PIECE =
  /^(<\|[^|]*\|>|<\/?s>|<(bos|eos|pad|unk|mask|cls|sep|sot|eot|start_of_turn|end_of_turn)[^>]*>|\[(CLS|SEP|PAD|UNK|MASK|BOS|EOS)\])$/i;

/** Whether a vocabulary piece looks like a control token (<|endoftext|>, <s>, [PAD], <bos>…). */
export function looksSpecial(piece: string): boolean {
  return SPECIAL_PIECE.test(piece);
}

type PieceStyle = 'byte-level' | 'sentencepiece' | 'plain';

/** How a vocabulary spells text: GPT-2 byte-level (Ġ for space), SentencePiece (▁), or as is. */
export function pieceStyle(vocab: readonly (string | undefined)[]): PieceStyle {
  let gpt = 0,
    sp = 0,
    outside = 0;
  const table = byteLevelTable();
  for (const p of vocab) {
    if (!p || looksSpecial(p)) continue;
    if (p.includes('Ġ') || p.includes('Ċ')) gpt++;
    if (p.includes('▁')) sp++;
    for (const ch of p)
      if (!table.has(ch)) {
        outside++;
        break;
      }
  }
  if (gpt > 0 && outside === 0) return 'byte-level';
  if (sp > 0) return 'sentencepiece';
  return 'plain';
}

/** A vocabulary (index = id; holes unknown) as TokenText, with its pieces decoded to text. */
export function vocabularyTokenText(
  vocab: readonly (string | undefined)[],
  name: string,
  opts: { special?: (id: number) => boolean } = {},
): TokenText {
  const style = pieceStyle(vocab);
  const texts = vocab.map((p) => {
    if (p === undefined) return undefined;
    if (looksSpecial(p)) return p;
    if (style === 'byte-level') return decodeByteLevel(p) ?? p;
    if (style === 'sentencepiece') return decodeSentencePiece(p);
    return p;
  });
  const known = (id: number) =>
    Number.isInteger(id) && id >= 0 && id < texts.length && texts[id] !== undefined;
  return {
    name,
    kind: 'vocabulary',
    size: vocab.length,
    text: (id) => (known(id) ? texts[id]! : placeholder(id)),
    known,
    special: opts.special ?? ((id) => known(id) && looksSpecial(vocab[id]!)),
  };
}

/** Minimal view of transformers.js's PreTrainedTokenizer that this module uses. */
interface HfTokenizer {
  decode(ids: number[], o: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  all_special_ids?: number[];
  model?: { convert_ids_to_tokens?(ids: number[]): (string | undefined)[] };
}

/**
 * A tokenizer.json's parsed contents (and, when given, its tokenizer_config.json) → TokenText through
 * transformers.js's PreTrainedTokenizer.
 */
export async function tokenizerTokenText(
  json: Record<string, unknown>,
  name: string,
  config: Record<string, unknown> = {},
): Promise<TokenText> {
  // Imported on demand: the library is large and only needed once a tokenizer is dropped.
  const { PreTrainedTokenizer } = await import('@huggingface/transformers');
  const tok = (await guarded(
    name,
    'not a tokenizer this app can read',
    () => new PreTrainedTokenizer(json, config),
  )) as unknown as HfTokenizer;
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  const added = Array.isArray(json.added_tokens)
    ? (json.added_tokens as { id?: unknown; special?: unknown }[])
    : [];
  const addedIds = new Set(added.map((t) => t.id).filter((i): i is number => typeof i === 'number'));
  let size = Array.isArray(vocab)
    ? vocab.length
    : vocab && typeof vocab === 'object'
      ? Object.keys(vocab).length
      : 0;
  for (const id of addedIds) if (id >= size) size = id + 1;
  const specialIds = new Set<number>(tok.all_special_ids ?? []);
  for (const t of added) if (t.special === true && typeof t.id === 'number') specialIds.add(t.id);
  const byteLevel = JSON.stringify(json.decoder ?? null).includes('"ByteLevel"');
  const cache = new Map<number, string | null>();
  const decodeOne = (id: number): string | null => {
    if (!Number.isInteger(id) || id < 0 || (size > 0 && id >= size && !addedIds.has(id))) return null;
    let s = cache.get(id);
    if (s !== undefined) return s;
    try {
      // decode() turns byte-level / metaspace pieces into text ("Ġworld" → " world").
      s = tok.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      // Metaspace decoders drop the space of a word-initial piece at the start of the text: put it back
      // (in running text "▁world" is " world").
      const piece = tok.model?.convert_ids_to_tokens?.([id])?.[0];
      if (piece === undefined) s = null;
      else if (piece.startsWith('▁') && !s.startsWith(' ')) s = ' ' + s;
      // A byte-level piece holding part of a character decodes to U+FFFD: show its bytes instead.
      else if (byteLevel && s.includes('\uFFFD')) s = decodeByteLevel(piece) ?? s;
    } catch {
      s = null;
    }
    cache.set(id, s);
    return s;
  };
  return {
    name,
    kind: 'tokenizer',
    size,
    text: (id) => decodeOne(id) ?? placeholder(id),
    known: (id) => decodeOne(id) !== null,
    special: (id) => specialIds.has(id),
  };
}

function parseJson(src: ByteSource, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new DataFileError(src.name, `not valid JSON (${(e as Error).message})`);
  }
}

async function readAll(src: ByteSource): Promise<Uint8Array> {
  check(src.size <= MAX_TOKENIZER_BYTES, src.name, `too large for a tokenizer (${src.size} bytes)`);
  const bytes = await src.read(0, src.size);
  check(bytes.length === src.size, src.name, `read ${bytes.length} of ${src.size} bytes`);
  return bytes;
}

/** Reads a dropped tokenizer.json or vocabulary JSON (with an optional tokenizer_config.json). */
export async function loadTokenText(src: ByteSource, configSrc?: ByteSource): Promise<TokenText> {
  const json = parseJson(src, await readAll(src));
  if (Array.isArray(json)) {
    check(
      json.length <= MAX_VOCAB,
      src.name,
      `a vocabulary of ${json.length} tokens is more than ${MAX_VOCAB}`,
    );
    check(
      json.every((t) => typeof t === 'string'),
      src.name,
      'a vocabulary list must hold only strings',
    );
    return vocabularyTokenText(json as string[], src.name);
  }
  check(!!json && typeof json === 'object', src.name, 'expected a tokenizer.json or a vocabulary');
  const obj = json as Record<string, unknown>;
  if ('model' in obj) {
    let config: Record<string, unknown> = {};
    if (configSrc) {
      const c = parseJson(configSrc, await readAll(configSrc));
      check(!!c && typeof c === 'object' && !Array.isArray(c), configSrc.name, 'expected a JSON object');
      config = c as Record<string, unknown>;
    }
    return tokenizerTokenText(obj, src.name, config);
  }
  // {"token": id} (vocab.json of GPT-2 style tokenizers).
  const entries = Object.entries(obj);
  check(entries.length > 0, src.name, 'the vocabulary is empty');
  check(
    entries.every(([, v]) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < MAX_VOCAB),
    src.name,
    `a vocabulary object must map tokens to integer ids (0 to ${MAX_VOCAB - 1})`,
  );
  const vocab: (string | undefined)[] = [];
  for (const [k, v] of entries) vocab[v as number] = k;
  return vocabularyTokenText(Array.from(vocab), src.name);
}

/** Tokenizer files among dropped files: tokenizer.json / vocab*.json, not tokenizer_config.json & co. */
export function isTokenTextFile(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return /^(tokenizer|vocab)[^/]*\.json$/i.test(base) && !/^tokenizer_config\.json$/i.test(base);
}

/**
 * The token text of a drop: tokenizer.json first (with tokenizer_config.json when present), else a
 * vocabulary file; null when the drop holds none.
 */
export async function tokenTextFromFiles(files: ByteSource[]): Promise<TokenText | null> {
  const base = (f: ByteSource) => (f.name.split('/').pop() ?? f.name).toLowerCase();
  const candidates = files.filter((f) => isTokenTextFile(f.name));
  if (!candidates.length) return null;
  const pick = candidates.find((f) => base(f) === 'tokenizer.json') ?? candidates[0];
  const config = files.find((f) => base(f) === 'tokenizer_config.json');
  return loadTokenText(pick, base(pick) === 'tokenizer.json' ? config : undefined);
}
