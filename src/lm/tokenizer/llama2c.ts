// llama2.c's tokenizer.bin and its encoder, exactly as run.c (karpathy/llama2.c build_tokenizer,
// encode, decode):
//   file: i32 max_token_length, then per token: f32 score, i32 length, the piece's bytes. The file does
//   not store the vocabulary size (run.c takes the model's); we read to the end when none is given.
//   encode(text, bos, eos): optional BOS (1); a dummy-prefix " " token when the text is not empty; each
//   UTF-8 character as its piece, or its bytes as tokens byte + 3 (byte fallback, <0xXX> at ids 3..258);
//   then, repeatedly, the adjacent pair whose concatenation is a piece with the highest score (the
//   leftmost on ties, scores above −1e10) is merged; optional EOS (2).
//   decode(prev, token): the piece, without its leading space after BOS; "<0xXX>" pieces are the byte.
// Pieces are compared as C strings (bytes up to the first NUL), as strcmp does.
import { DataFileError } from '../../data/errors';

export const LLAMA2C_BOS = 1;
export const LLAMA2C_EOS = 2;
/** run.c's floor for a merge score (best_score starts at −1e10, compared with >). */
const SCORE_FLOOR = -1e10;
const MAX_PIECE_BYTES = 1 << 16;

export interface Llama2cVocab {
  /** Piece bytes per id. */
  pieces: Uint8Array[];
  /** Merge score per id (float32 values). */
  scores: Float32Array;
  maxTokenLength: number;
}

/** Parses tokenizer.bin; `vocabSize` (the model's) reads exactly that many tokens, trailing bytes ignored as run.c does. */
export function parseLlama2cTokenizer(bytes: Uint8Array, file: string, vocabSize?: number): Llama2cVocab {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4)
    throw new DataFileError(file, `${bytes.length} bytes is too short for a tokenizer.bin`);
  const maxTokenLength = dv.getInt32(0, true);
  if (maxTokenLength < 1 || maxTokenLength > MAX_PIECE_BYTES)
    throw new DataFileError(file, `max_token_length ${maxTokenLength} is not in 1..${MAX_PIECE_BYTES}`);
  if (vocabSize !== undefined && !(Number.isSafeInteger(vocabSize) && vocabSize >= 1))
    throw new DataFileError(file, `vocabulary size ${vocabSize} is not a positive integer`);
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let o = 4;
  while (vocabSize === undefined ? o < bytes.length : pieces.length < vocabSize) {
    const id = pieces.length;
    if (o + 8 > bytes.length)
      throw new DataFileError(
        file,
        `truncated at token ${id}${vocabSize !== undefined ? ` of ${vocabSize}` : ''}: ${bytes.length - o} bytes left, a token needs at least 8`,
      );
    const score = dv.getFloat32(o, true);
    const len = dv.getInt32(o + 4, true);
    if (Number.isNaN(score)) throw new DataFileError(file, `token ${id} has a NaN score`);
    if (len < 0 || len > maxTokenLength)
      throw new DataFileError(
        file,
        `token ${id} has length ${len}, outside 0..max_token_length ${maxTokenLength}`,
      );
    if (o + 8 + len > bytes.length)
      throw new DataFileError(file, `token ${id}: ${len} bytes run past the end of the file`);
    pieces.push(bytes.slice(o + 8, o + 8 + len));
    scores.push(score);
    o += 8 + len;
  }
  // run.c's byte fallback encodes byte b as token b + 3: the file must hold <0x00>..<0xFF> there.
  if (pieces.length < 259)
    throw new DataFileError(
      file,
      `${pieces.length} tokens; llama2.c needs <unk>, <s>, </s> and the 256 byte tokens (259 at least)`,
    );
  for (let b = 0; b < 256; b++) {
    const want = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    if (cKey(pieces[b + 3]) !== want)
      throw new DataFileError(
        file,
        `token ${b + 3} is ${JSON.stringify(cKey(pieces[b + 3]))}, byte fallback needs ${want} there`,
      );
  }
  return { pieces, scores: Float32Array.from(scores), maxTokenLength };
}

/** A piece as run.c's strcmp sees it: its bytes up to the first NUL, as a binary string (one char per byte). */
function cKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length && b[i] !== 0; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** A byte-fallback piece `<0xXX>` → its byte (run.c: sscanf(piece, "<0x%02hhX>")), else −1. */
function bytePiece(key: string): number {
  const m = /^<0x([0-9A-Fa-f]{1,2})/.exec(key);
  return m ? parseInt(m[1], 16) : -1;
}

/** Min-heap of merge candidates ordered by score (high first), then by position (left first). */
class PairHeap {
  private items: { score: number; pos: number; left: number; right: number; id: number }[] = [];
  get size() {
    return this.items.length;
  }
  private before(a: number, b: number) {
    const x = this.items[a];
    const y = this.items[b];
    return x.score > y.score || (x.score === y.score && x.pos < y.pos);
  }
  push(item: { score: number; pos: number; left: number; right: number; id: number }) {
    const it = this.items;
    it.push(item);
    let i = it.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      [it[i], it[p]] = [it[p], it[i]];
      i = p;
    }
  }
  pop() {
    const it = this.items;
    const top = it[0];
    const last = it.pop()!;
    if (it.length) {
      it[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < it.length && this.before(l, m)) m = l;
        if (r < it.length && this.before(r, m)) m = r;
        if (m === i) break;
        [it[i], it[m]] = [it[m], it[i]];
        i = m;
      }
    }
    return top;
  }
}

export class Llama2cTokenizer {
  readonly vocabSize: number;
  readonly bosId = LLAMA2C_BOS;
  readonly eosId = LLAMA2C_EOS;
  private readonly keys: string[];
  private readonly lookup = new Map<string, number>();

  constructor(
    readonly vocab: Llama2cVocab,
    readonly name = 'tokenizer.bin',
  ) {
    this.vocabSize = vocab.pieces.length;
    this.keys = vocab.pieces.map(cKey);
    // bsearch over a sorted copy finds one of several equal pieces; we take the lowest id.
    this.keys.forEach((k, id) => {
      if (!this.lookup.has(k)) this.lookup.set(k, id);
    });
  }

  /** The initial tokens before merging: BOS, the dummy prefix, one token per character or per byte. */
  private initial(text: Uint8Array, bos: boolean): number[] {
    const tokens: number[] = [];
    if (bos) tokens.push(LLAMA2C_BOS);
    let n = text.indexOf(0);
    if (n < 0) n = text.length;
    if (n > 0) {
      // run.c pushes str_lookup(" "); without a " " piece it would push −1, so we push nothing.
      const prefix = this.lookup.get(' ');
      if (prefix !== undefined) tokens.push(prefix);
    }
    let i = 0;
    while (i < n) {
      // A character: this byte and up to 3 continuation bytes (10xxxxxx) that follow.
      let j = i + 1;
      while (j < n && (text[j] & 0xc0) === 0x80 && j - i < 4) j++;
      let key = '';
      for (let k = i; k < j; k++) key += String.fromCharCode(text[k]);
      const id = this.lookup.get(key);
      if (id !== undefined) tokens.push(id);
      else
        for (let k = i; k < j; k++) {
          const b = text[k] + 3;
          if (b >= this.vocabSize)
            throw new Error(
              `${this.name}: byte fallback for 0x${text[k].toString(16)} needs token ${b}, the vocabulary has ${this.vocabSize}`,
            );
          tokens.push(b);
        }
      i = j;
    }
    return tokens;
  }

  private mergeId(left: number, right: number): number {
    const id = this.lookup.get(this.keys[left] + this.keys[right]);
    return id === undefined ? -1 : id;
  }

  /**
   * run.c's encode: text (a string is UTF-8 encoded) → ids. Equal to the literal O(n²) loop of run.c
   * (encodeReference) but with a heap of candidate pairs, so long documents encode in O(n log n).
   */
  encode(text: string | Uint8Array, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const init = this.initial(bytes, opts.bos ?? false);
    const n = init.length;
    const tok = Int32Array.from(init);
    const prev = new Int32Array(n).map((_, i) => i - 1);
    const next = new Int32Array(n).map((_, i) => (i + 1 < n ? i + 1 : -1));
    const alive = new Uint8Array(n).fill(1);
    const heap = new PairHeap();
    const scores = this.vocab.scores;
    const consider = (l: number) => {
      const r = next[l];
      if (r < 0) return;
      const id = this.mergeId(tok[l], tok[r]);
      if (id >= 0 && scores[id] > SCORE_FLOOR)
        heap.push({ score: scores[id], pos: l, left: tok[l], right: tok[r], id });
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.size) {
      const c = heap.pop();
      const l = c.pos;
      const r = next[l];
      // Stale: a side was merged away or changed since the pair was pushed.
      if (!alive[l] || r < 0 || tok[l] !== c.left || tok[r] !== c.right) continue;
      tok[l] = c.id;
      alive[r] = 0;
      next[l] = next[r];
      if (next[r] >= 0) prev[next[r]] = l;
      if (prev[l] >= 0) consider(prev[l]);
      consider(l);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]) out.push(tok[i]);
    if (opts.eos) out.push(LLAMA2C_EOS);
    return out;
  }

  /** run.c's encode loop as written (O(n²)): the reference the heap encoder is tested against. */
  encodeReference(text: string | Uint8Array, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const tokens = this.initial(bytes, opts.bos ?? false);
    for (;;) {
      let best = SCORE_FLOOR;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i + 1 < tokens.length; i++) {
        const id = this.mergeId(tokens[i], tokens[i + 1]);
        if (id !== -1 && this.vocab.scores[id] > best) {
          best = this.vocab.scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx === -1) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    if (opts.eos) tokens.push(LLAMA2C_EOS);
    return tokens;
  }

  /** The bytes run.c prints for `token` after `prev` (decode: leading space dropped after BOS; <0xXX> → byte). */
  pieceBytes(prev: number, token: number): Uint8Array {
    if (!(Number.isInteger(token) && token >= 0 && token < this.vocabSize))
      throw new Error(`${this.name}: token ${token} is outside the vocabulary 0..${this.vocabSize - 1}`);
    let key = this.keys[token];
    if (prev === LLAMA2C_BOS && key.startsWith(' ')) key = key.slice(1);
    const b = bytePiece(key);
    if (b >= 0) return Uint8Array.of(b);
    return Uint8Array.from(key, (ch) => ch.charCodeAt(0));
  }

  /** Ids → text, each token decoded after the one before it (the first after `prev`, BOS by default). */
  decode(ids: ArrayLike<number>, prev = LLAMA2C_BOS): string {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i++) {
      parts.push(this.pieceBytes(i === 0 ? prev : ids[i - 1], ids[i]));
    }
    const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return new TextDecoder().decode(all);
  }

  /** One token's text in running text (not after BOS): byte pieces as their byte, split characters as \xNN. */
  tokenText(id: number): string {
    const b = this.pieceBytes(-1, id);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return Array.from(b, (x) =>
        x < 0x80 ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`,
      ).join('');
    }
  }
}
