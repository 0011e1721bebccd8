// Documents (strings) from dropped text files, in file order, read in chunks so that a large .txt or
// .jsonl never has to be in memory whole:
//   .txt / .md   the whole file is one document, or one per blank-line-separated paragraph, or per line;
//   .jsonl       one JSON object per line, its `text` field (or the field named);
//   .json        an array of such objects (or of strings), or an object whose field is an array of strings;
//   .parquet     the `text` column (or the only string column) of a Hugging Face datasets file, one row
//                group at a time (hyparquet: pure JS, snappy built in).
// Every problem is a DataFileError naming the file and, for line formats, the line.
import type { ByteSource } from '../../data/byteSource';
import { DataFileError, guarded } from '../../data/errors';

export type TxtSplit = 'file' | 'paragraph' | 'line';

export interface DocumentOptions {
  /** The JSON / parquet field holding the text (default "text"). */
  field?: string;
  /** How a .txt is cut into documents (default: the whole file is one). */
  txtSplit?: TxtSplit;
  /** Bytes read per chunk (default 4 MiB). */
  chunkBytes?: number;
  /** Largest .json or single-document .txt accepted, which must be read whole (default 256 MiB). */
  maxWholeBytes?: number;
}

const DEFAULT_CHUNK = 4 << 20;
const DEFAULT_MAX_WHOLE = 256 << 20;

/** The kinds of text file this reads, by extension. */
export function textKind(name: string): 'txt' | 'jsonl' | 'json' | 'parquet' | null {
  const n = name.toLowerCase();
  if (n.endsWith('.txt') || n.endsWith('.md') || n.endsWith('.text')) return 'txt';
  if (n.endsWith('.jsonl') || n.endsWith('.ndjson')) return 'jsonl';
  if (n.endsWith('.json')) return 'json';
  if (n.endsWith('.parquet')) return 'parquet';
  return null;
}

/** The file's text as UTF-8 chunks (a character split across chunks is kept whole). */
async function* textChunks(src: ByteSource, chunk: number): AsyncGenerator<string> {
  const dec = new TextDecoder('utf-8');
  for (let o = 0; o < src.size; o += chunk) {
    const n = Math.min(chunk, src.size - o);
    yield dec.decode(await src.read(o, n), { stream: o + n < src.size });
  }
  const tail = dec.decode();
  if (tail) yield tail;
}

/** Lines (without their \n or \r\n) with 1-based numbers. */
async function* lines(src: ByteSource, chunk: number): AsyncGenerator<[string, number]> {
  let carry = '';
  let no = 0;
  for await (const part of textChunks(src, chunk)) {
    const text = carry + part;
    let from = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', from)) {
      yield [text.slice(from, i).replace(/\r$/, ''), ++no];
      from = i + 1;
    }
    carry = text.slice(from);
  }
  if (carry) yield [carry.replace(/\r$/, ''), ++no];
}

async function readWhole(src: ByteSource, max: number, what: string): Promise<string> {
  if (src.size > max)
    throw new DataFileError(
      src.name,
      `${src.size} bytes is more than the ${max} bytes a ${what} may have (it is read whole)`,
    );
  return new TextDecoder('utf-8').decode(await src.read(0, src.size));
}

function fieldOf(v: unknown, field: string, file: string, where: string): string {
  if (typeof v === 'string') return v;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new DataFileError(file, `${where}: expected an object with a "${field}" field`);
  const t = (v as Record<string, unknown>)[field];
  if (typeof t !== 'string')
    throw new DataFileError(
      file,
      `${where}: no string field "${field}" (fields: ${
        Object.keys(v as object)
          .slice(0, 8)
          .join(', ') || 'none'
      })`,
    );
  return t;
}

type ParquetHeaderFn = (r: { view: DataView; offset: number }) => {
  type: string;
  uncompressed_page_size: number;
  compressed_page_size: number;
  data_page_header?: { num_values: number };
  dictionary_page_header?: { num_values: number };
  data_page_header_v2?: {
    num_values: number;
    num_rows: number;
    num_nulls: number;
    definition_levels_byte_length: number;
    repetition_levels_byte_length: number;
  };
};

/**
 * Walks a column chunk's page headers before hyparquet decodes it: every size and count a non-negative
 * integer that fits the chunk (a missing level length, for one, sends hyparquet's RLE decoder into an
 * endless loop), data pages' values adding up to the chunk's, the chunk's to the row group's rows.
 */
async function checkPages(
  src: ByteSource,
  chunk: {
    data_page_offset: bigint;
    dictionary_page_offset?: bigint;
    total_compressed_size: bigint;
    num_values: bigint;
  },
  rows: number,
  where: string,
  header: ParquetHeaderFn,
): Promise<void> {
  const fail = (msg: string): never => {
    throw new DataFileError(src.name, `${where}: ${msg}`);
  };
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
  const size = Number(chunk.total_compressed_size);
  const values = Number(chunk.num_values);
  if (!count(start) || !count(size) || start + size > src.size)
    fail(`column chunk bytes ${start}..${start + size} are outside the file (${src.size} bytes)`);
  if (!count(values) || values > rows) fail(`column chunk holds ${values} values for ${rows} rows`);
  const bytes = await src.read(start, size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  let seen = 0;
  while (off < size) {
    const r = { view, offset: off };
    const h = await guarded(src.name, `${where}: page header at byte ${start + off}`, () => header(r));
    const body = h.compressed_page_size;
    if (!count(body) || !count(h.uncompressed_page_size) || r.offset + body > size)
      fail(
        `a page at byte ${start + off} has sizes ${body} / ${h.uncompressed_page_size} outside its column chunk`,
      );
    if (h.uncompressed_page_size > Math.max(1 << 20, 1024 * body))
      fail(`a page claims ${h.uncompressed_page_size} bytes from ${body}`);
    const v2 = h.data_page_header_v2;
    const n = h.data_page_header?.num_values ?? v2?.num_values;
    if (h.type === 'DATA_PAGE' || h.type === 'DATA_PAGE_V2') {
      if (!count(n)) fail(`a data page at byte ${start + off} has no value count`);
      if (
        v2 &&
        !(
          count(v2.definition_levels_byte_length) &&
          count(v2.repetition_levels_byte_length) &&
          count(v2.num_nulls) &&
          count(v2.num_rows)
        )
      )
        fail(`a data page (v2) at byte ${start + off} lacks its level lengths or counts`);
      if (v2 && v2.definition_levels_byte_length + v2.repetition_levels_byte_length > body)
        fail(`a data page (v2) at byte ${start + off} has levels longer than the page`);
      seen += n!;
    } else if (h.type === 'DICTIONARY_PAGE') {
      if (!count(h.dictionary_page_header?.num_values))
        fail(`a dictionary page at byte ${start + off} has no value count`);
    }
    off = r.offset + body;
  }
  if (seen !== values) fail(`data pages hold ${seen} values, the column chunk says ${values}`);
}

async function* parquetDocuments(src: ByteSource, field: string | undefined): AsyncGenerator<string> {
  const { parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
  const file = {
    byteLength: src.size,
    slice: async (start: number, end?: number) => {
      const s = Math.max(0, Math.min(start, src.size));
      const e = Math.max(s, Math.min(end ?? src.size, src.size));
      const b = await src.read(s, e - s);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
  const meta = await guarded(src.name, 'not a parquet file this app can read', () =>
    parquetMetadataAsync(file),
  );
  const columns = await guarded(src.name, 'bad parquet schema', () =>
    parquetSchema(meta).children.map((c) => ({
      name: c.element.name,
      type: c.element.type,
      logical: c.element.converted_type,
    })),
  );
  const strings = columns.filter((c) => c.type === 'BYTE_ARRAY');
  const name =
    field ??
    (columns.some((c) => c.name === 'text') ? 'text' : strings.length === 1 ? strings[0].name : null);
  const col = columns.find((c) => c.name === name);
  if (!col || col.type !== 'BYTE_ARRAY')
    throw new DataFileError(
      src.name,
      `no text column ${name ? `"${name}"` : '(name one with --text-field)'}; columns: ${columns.map((c) => `${c.name} (${c.type ?? 'group'})`).join(', ')}`,
    );
  const { parquetHeader } = await import('hyparquet/src/column.js');
  let row = 0;
  for (const group of meta.row_groups) {
    const n = Number(group.num_rows);
    const chunk = group.columns.find((c) => c.meta_data?.path_in_schema?.[0] === col.name)?.meta_data;
    if (!chunk)
      throw new DataFileError(src.name, `row group at row ${row} has no "${col.name}" column chunk`);
    await checkPages(src, chunk, n, `row group at row ${row}`, parquetHeader);
    const values: unknown[] = [];
    await guarded(src.name, `row group at row ${row}`, () =>
      parquetRead({
        file,
        columns: [col.name],
        rowStart: row,
        rowEnd: row + n,
        rowFormat: 'array',
        onComplete: (rows: unknown[][]) => {
          for (const r of rows) values.push(r[0]);
        },
      }),
    );
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string')
        throw new DataFileError(src.name, `row ${row + i}: column "${col.name}" is not text`);
      yield v;
    }
    row += n;
  }
}

/** The documents of one text file, in order. */
export async function* readDocuments(src: ByteSource, opts: DocumentOptions = {}): AsyncGenerator<string> {
  const kind = textKind(src.name);
  const field = opts.field ?? 'text';
  const chunk = opts.chunkBytes ?? DEFAULT_CHUNK;
  const maxWhole = opts.maxWholeBytes ?? DEFAULT_MAX_WHOLE;
  if (kind === null)
    throw new DataFileError(src.name, 'not a text file this app reads (.txt, .md, .jsonl, .json, .parquet)');
  if (kind === 'txt') {
    const split = opts.txtSplit ?? 'file';
    if (split === 'file') {
      const t = await readWhole(src, maxWhole, 'single-document .txt');
      if (t.length) yield t;
      return;
    }
    let para: string[] = [];
    for await (const [line] of lines(src, chunk)) {
      if (split === 'line') {
        if (line.length) yield line;
      } else if (line.trim() === '') {
        if (para.length) yield para.join('\n');
        para = [];
      } else para.push(line);
    }
    if (para.length) yield para.join('\n');
    return;
  }
  if (kind === 'jsonl') {
    for await (const [line, no] of lines(src, chunk)) {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new DataFileError(src.name, `line ${no}: not valid JSON (${(e as Error).message})`);
      }
      yield fieldOf(v, field, src.name, `line ${no}`);
    }
    return;
  }
  if (kind === 'json') {
    let v: unknown;
    try {
      v = JSON.parse(await readWhole(src, maxWhole, '.json'));
    } catch (e) {
      if (e instanceof DataFileError) throw e;
      throw new DataFileError(src.name, `not valid JSON (${(e as Error).message})`);
    }
    let items: unknown[];
    if (Array.isArray(v)) items = v;
    else if (v && typeof v === 'object' && Array.isArray((v as Record<string, unknown>)[field]))
      items = (v as Record<string, unknown[]>)[field];
    else throw new DataFileError(src.name, `expected an array of records or {"${field}": [...]}`);
    for (let i = 0; i < items.length; i++) yield fieldOf(items[i], field, src.name, `item ${i}`);
    return;
  }
  yield* parquetDocuments(src, opts.field);
}
