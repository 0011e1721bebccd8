// Text in (src/lm/text): SAELens packing — a hand-worked case and agreement with a line-by-line port of
// sae_lens/tokenization_and_batching.py on random documents — document-start marks, and the readers of
// .txt / .jsonl / .json / .parquet (chunked, with hostile-input messages), end to end with a tokenizer.
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { Rng } from '../../../src/data/rng';
import { packDocuments, packTexts, readDocuments, SaeLensPacker } from '../../../src/lm/text';
import { llama2cLmTokenizer, Llama2cTokenizer, parseLlama2cTokenizer } from '../../../src/lm/tokenizer';
import { llama2cFixture, writeLlama2cTokenizer } from '../../fixtures/lm/writers';

/**
 * concat_and_batch_sequences + _add_tokens_to_batch (SAELens), transcribed statement by statement,
 * with begin_sequence_token_id = None as ActivationsStore calls it.
 */
function saeLensReference(
  docs: number[][],
  T: number,
  beginBatch: number | null,
  separator: number | null,
): number[][] {
  const out: number[][] = [];
  let batch: number[] | null = null;
  for (const tokens of docs) {
    let offset = 0;
    while (tokens.length - offset > 0) {
      const prefix: number[] = [];
      let first = tokens[offset];
      if (batch === null) {
        if (beginBatch !== null && first !== beginBatch) {
          prefix.unshift(beginBatch);
          first = beginBatch;
        }
        const needed = Math.max(T - prefix.length, 0);
        batch = [...prefix.slice(0, T), ...tokens.slice(offset, offset + needed)];
        offset += needed;
      } else {
        if (separator !== null && first !== separator) {
          prefix.unshift(separator);
          first = separator;
        }
        const needed = Math.max(T - batch.length - prefix.length, 0);
        const prefixNeeded = Math.max(T - batch.length, 0);
        batch = [...batch, ...prefix.slice(0, prefixNeeded), ...tokens.slice(offset, offset + needed)];
        offset += needed;
      }
      if (batch.length === T) {
        out.push(batch);
        batch = null;
      }
    }
  }
  return out;
}

const rows = (r: { ids: Int32Array }[]) => r.map((x) => Array.from(x.ids));

describe('SAELens packing', () => {
  it('a hand-worked case: BOS per row, separators between documents, starts marked, the tail dropped', () => {
    const docs = [[1, 2, 3], [4, 5, 6, 7, 8, 9], [], [0, 10], [11]];
    const out = packDocuments(docs, { contextSize: 5, bosId: 0 });
    // [BOS 1 2 3 | sep] [BOS 4 5 6 7] [BOS 8 9 | 10 after its own BOS]; [BOS 11] is partial: dropped.
    expect(rows(out)).toEqual([
      [0, 1, 2, 3, 0],
      [0, 4, 5, 6, 7],
      [0, 8, 9, 0, 10],
    ]);
    expect(out.map((r) => Array.from(r.start))).toEqual([
      [1, 0, 0, 0, 1],
      [1, 0, 0, 0, 0],
      [1, 0, 0, 1, 0],
    ]);
    // prepend_bos = False: documents are laid end to end, each start still marked.
    const plain = packDocuments(docs, { contextSize: 4, bosId: 0, prependBos: false });
    expect(rows(plain)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 0, 10, 11],
    ]);
    expect(plain.map((r) => Array.from(r.start))).toEqual([
      [1, 0, 0, 1],
      [1, 0, 0, 0],
      [1, 1, 0, 1],
    ]);
  });

  it('equals the SAELens transcription on 200 random document sets, both prepend_bos settings', () => {
    const r = new Rng(17, 3);
    for (let k = 0; k < 200; k++) {
      const T = 2 + r.int(9);
      const docs = Array.from({ length: r.int(8) }, () =>
        Array.from({ length: r.int(14) }, () => (r.next() < 0.1 ? 0 : 1 + r.int(20))),
      );
      for (const prepend of [true, false]) {
        const want = saeLensReference(docs, T, prepend ? 0 : null, prepend ? 0 : null);
        const got = packDocuments(docs, { contextSize: T, bosId: 0, prependBos: prepend });
        expect(rows(got), JSON.stringify({ docs, T, prepend })).toEqual(want);
        // Every row starts a sequence; a marked start inside a row is a separator or a document's first token.
        for (const row of got) expect(row.start[0]).toBe(1);
      }
    }
  });

  it('a streaming packer gives the same rows as packing all at once', () => {
    const docs = [[5, 6, 7], [8], [9, 10, 11, 12, 13, 14, 15], [16, 17]];
    const p = new SaeLensPacker({ contextSize: 4, bosId: 1 });
    const streamed = docs.flatMap((d) => p.push(d));
    expect(rows(streamed)).toEqual(rows(packDocuments(docs, { contextSize: 4, bosId: 1 })));
    expect(p.pending).toBeGreaterThan(0);
    expect(() => new SaeLensPacker({ contextSize: 4, bosId: null })).toThrow(/needs a BOS token/);
    expect(() => new SaeLensPacker({ contextSize: 1, bosId: 0 })).toThrow(/at least 2/);
  });
});

const enc = (s: string) => new TextEncoder().encode(s);
async function all(src: ReturnType<typeof bytesByteSource>, opts = {}) {
  const out: string[] = [];
  for await (const d of readDocuments(src, opts)) out.push(d);
  return out;
}
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DataFileError);
    return (e as Error).message;
  }
  throw new Error('expected a DataFileError');
}

describe('documents from text files', () => {
  it('.txt as one document, per paragraph or per line, read in tiny chunks across multibyte characters', async () => {
    const text = 'Once upon a time.\nThe end, é 日本.\n\n\nSecond story 🙂\r\nline two\n';
    const src = bytesByteSource(enc(text), 'stories.txt');
    expect(await all(src)).toEqual([text]);
    expect(await all(src, { txtSplit: 'paragraph', chunkBytes: 3 })).toEqual([
      'Once upon a time.\nThe end, é 日本.',
      'Second story 🙂\nline two',
    ]);
    expect(await all(src, { txtSplit: 'line', chunkBytes: 5 })).toEqual([
      'Once upon a time.',
      'The end, é 日本.',
      'Second story 🙂',
      'line two',
    ]);
    expect(await failure(all(src, { maxWholeBytes: 10 }))).toMatch(
      /stories\.txt: \d+ bytes is more than the 10 bytes/,
    );
  });

  it('.jsonl and .json with a text field, and the line or item at fault named', async () => {
    const jsonl = '{"text": "first doc", "id": 1}\r\n\n{"text": "second\\ndoc"}\n{"text":"third"}';
    expect(await all(bytesByteSource(enc(jsonl), 'd.jsonl'), { chunkBytes: 7 })).toEqual([
      'first doc',
      'second\ndoc',
      'third',
    ]);
    expect(await failure(all(bytesByteSource(enc('{"text": "a"}\n{"body": "b"}\n'), 'd.jsonl')))).toMatch(
      /d\.jsonl: line 2: no string field "text" \(fields: body\)/,
    );
    expect(await failure(all(bytesByteSource(enc('{"text": "a"}\n{oops\n'), 'd.jsonl')))).toMatch(
      /line 2: not valid JSON/,
    );
    const json = JSON.stringify([{ text: 'a' }, { text: 'b', meta: 3 }]);
    expect(await all(bytesByteSource(enc(json), 'd.json'))).toEqual(['a', 'b']);
    expect(
      await all(bytesByteSource(enc(JSON.stringify({ content: ['x', 'y'] })), 'd.json'), {
        field: 'content',
      }),
    ).toEqual(['x', 'y']);
    expect(await failure(all(bytesByteSource(enc('{"rows": 3}'), 'd.json')))).toMatch(
      /expected an array of records/,
    );
    expect(await failure(all(bytesByteSource(enc('a,b'), 'd.csv')))).toMatch(
      /not a text file this app reads/,
    );
  });

  it('.parquet: the text column, row group by row group, nulls skipped; a missing column lists the columns', async () => {
    const texts = Array.from({ length: 25 }, (_, i) => (i === 7 ? null : `document ${i} — é`));
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from(texts.keys()), type: 'INT32' },
        { name: 'text', data: texts, type: 'STRING' },
      ],
      rowGroupSize: 10,
    });
    const src = bytesByteSource(new Uint8Array(buf), 'train-00000-of-00001.parquet');
    expect(await all(src)).toEqual(texts.filter((t) => t !== null));
    expect(await failure(all(src, { field: 'body' }))).toMatch(
      /no text column "body"; columns: id \(INT32\), text \(BYTE_ARRAY\)/,
    );
    expect(await failure(all(bytesByteSource(new Uint8Array(buf).subarray(0, 40), 'x.parquet')))).toMatch(
      /x\.parquet: /,
    );
    // Repeated values (a dictionary page) over many small data pages, the page-header walk included.
    const rep = Array.from({ length: 300 }, (_, i) => ['alpha', 'beta — é', 'gamma'][i % 3]);
    const dict = parquetWriteBuffer({
      columnData: [{ name: 'text', data: rep, type: 'STRING' }],
      pageSize: 64,
      rowGroupSize: 120,
    });
    expect(await all(bytesByteSource(new Uint8Array(dict), 'rep.parquet'))).toEqual(rep);
  });
});

describe('packTexts: files → the model tokenizer → rows', () => {
  it('tokenizes each document without BOS and packs them with BOS separators', async () => {
    const { vocab } = llama2cFixture();
    const tok = llama2cLmTokenizer(
      new Llama2cTokenizer(parseLlama2cTokenizer(writeLlama2cTokenizer(vocab), 'tokenizer.bin')),
    );
    const docs = ['the hello world', 'she and the', 'T'];
    const file = bytesByteSource(enc(docs.map((t) => JSON.stringify({ text: t })).join('\n')), 'd.jsonl');
    const got: { ids: Int32Array; start: Uint8Array }[] = [];
    for await (const r of packTexts([file, 'and the end'], tok, { contextSize: 6 })) got.push(r);
    const want = packDocuments(
      [...docs, 'and the end'].map((d) => tok.encode(d)),
      { contextSize: 6, bosId: 1 },
    );
    expect(rows(got)).toEqual(rows(want));
    expect(got.length).toBeGreaterThan(1);
    expect(got[0].ids[0]).toBe(1);
    const first: { ids: Int32Array }[] = [];
    for await (const r of packTexts([file], tok, { contextSize: 6, maxRows: 1 })) first.push(r);
    expect(first.length).toBe(1);
  });
});
