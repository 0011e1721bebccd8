// Writes a SAELens activation cache folder as Hugging Face `datasets.save_to_disk` lays it out (what
// SAELens's CacheActivationsRunner makes and src/data/arrowCache.ts reads): dataset_info.json,
// state.json and data-00000-of-0000N.arrow files in Arrow IPC stream format, one row per sequence:
//   blocks.L.hook_*   Array2D(shape=(T, d), dtype='float32'): extension type
//                     datasets.features.features.Array2DExtensionType over list<list<float32>>,
//                     its metadata json.dumps((shape, dtype)) as datasets serialises it;
//   token_ids         Sequence(Value('int32'), length=T): fixed_size_list<int32>[T].
// Rows are appended in order, record batch by record batch, so the folder is written with bounded memory
// (one batch of rows at a time); a new .arrow shard starts after `shardBytes`.
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
} from 'apache-arrow';

/** Where the folder's files go (a Node directory, OPFS, a zip…). */
export interface CacheSink {
  /** Appends bytes to the named file, creating it on the first call. */
  append(name: string, bytes: Uint8Array): Promise<void>;
  /** Renames a file written earlier (shard names carry the shard count, known only at the end). */
  rename(from: string, to: string): Promise<void>;
  writeText(name: string, text: string): Promise<void>;
}

export interface CacheWriterOptions {
  hookName: string;
  /** Sequence length (context_size). */
  T: number;
  /** Activation width (d_in). */
  d: number;
  /** Rows per record batch (HF writes up to 1000; default: ≤ 1000 and ≤ 64 MiB of activations). */
  rowsPerBatch?: number;
  /** Bytes per .arrow shard before a new one starts (default 500 MB, as datasets' max_shard_size). */
  shardBytes?: number;
  /** Extra keys for dataset_info.json's `description` (provenance: model, hook, centring…). */
  description?: Record<string, unknown>;
}

const EXT_NAME = 'datasets.features.features.Array2DExtensionType';

/** The IPC stream's end-of-stream marker: continuation 0xFFFFFFFF, then a zero length. */
const EOS_BYTES = 8;

const shardName = (i: number, n: number) =>
  `data-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.arrow`;

export class SaeLensCacheWriter {
  readonly rowsPerBatch: number;
  private readonly schema: Schema;
  private readonly schemaBytes: number;
  private readonly actType: List;
  private readonly idsType: FixedSizeList;
  private pendingX: Float32Array;
  private pendingIds: Int32Array;
  private pending = 0;
  private shard = 0;
  private shardSize = 0;
  private shardCount = 0;
  private finished = false;
  /** Rows written. */
  rows = 0;

  constructor(
    private readonly sink: CacheSink,
    private readonly o: CacheWriterOptions,
  ) {
    const { T, d } = o;
    if (!(Number.isInteger(T) && T >= 1 && Number.isInteger(d) && d >= 1))
      throw new Error(`SaeLensCacheWriter: T and d must be positive integers (got ${T}, ${d})`);
    if (!/^blocks\.\d+\.hook_[a-z_]+$/.test(o.hookName))
      throw new Error(`SaeLensCacheWriter: "${o.hookName}" is not a blocks.L.hook_* name`);
    const perRow = T * d * 4;
    // Offsets are int32: a batch holds fewer than 2³¹ values.
    this.rowsPerBatch = Math.max(
      1,
      Math.min(
        o.rowsPerBatch ?? 1000,
        Math.floor((64 << 20) / perRow) || 1,
        Math.floor((2 ** 31 - 1) / (T * d)),
      ),
    );
    this.actType = new List(new Field('item', new List(new Field('item', new Float32(), true)), true));
    this.idsType = new FixedSizeList(T, new Field('item', new Int32(), true));
    const ext = new Map([
      ['ARROW:extension:name', EXT_NAME],
      ['ARROW:extension:metadata', JSON.stringify([[T, d], 'float32']).replace(/,/g, ', ')],
    ]);
    // datasets' ArrowWriter also stores the features in the schema metadata under "huggingface".
    const hf = new Map([['huggingface', JSON.stringify({ info: { features: this.features() } })]]);
    this.schema = new Schema(
      [new Field(o.hookName, this.actType, true, ext), new Field('token_ids', this.idsType, true)],
      hf,
    );
    // The stream's schema message: a stream with no batches is [schema][EOS].
    this.schemaBytes = tableToIPC(new Table(this.schema), 'stream').length - EOS_BYTES;
    this.pendingX = new Float32Array(this.rowsPerBatch * T * d);
    this.pendingIds = new Int32Array(this.rowsPerBatch * T);
  }

  /** datasets Features of the two columns. */
  private features() {
    const { T, d, hookName } = this.o;
    return {
      [hookName]: { shape: [T, d], dtype: 'float32', _type: 'Array2D' },
      token_ids: { feature: { dtype: 'int32', _type: 'Value' }, length: T, _type: 'Sequence' },
    };
  }

  /** Appends rows: x [S·T·d] activations and ids [S·T] token ids, in order. */
  async append(x: Float32Array, ids: Int32Array, S: number): Promise<void> {
    if (this.finished) throw new Error('SaeLensCacheWriter: already finished');
    const { T, d } = this.o;
    if (x.length !== S * T * d || ids.length !== S * T)
      throw new Error(
        `SaeLensCacheWriter: ${S} rows need ${S * T * d} values and ${S * T} ids (got ${x.length}, ${ids.length})`,
      );
    for (let s = 0; s < S; s++) {
      this.pendingX.set(x.subarray(s * T * d, (s + 1) * T * d), this.pending * T * d);
      this.pendingIds.set(ids.subarray(s * T, (s + 1) * T), this.pending * T);
      if (++this.pending === this.rowsPerBatch) await this.flush();
    }
  }

  private batch(rows: number): RecordBatch {
    const { T, d } = this.o;
    const inner = this.actType.children[0].type as List;
    const values = makeData({
      type: new Float32(),
      length: rows * T * d,
      data: this.pendingX.slice(0, rows * T * d),
    });
    const innerData = makeData({
      type: inner,
      length: rows * T,
      nullCount: 0,
      valueOffsets: Int32Array.from({ length: rows * T + 1 }, (_, i) => i * d),
      child: values,
    });
    const outerData = makeData({
      type: this.actType,
      length: rows,
      nullCount: 0,
      valueOffsets: Int32Array.from({ length: rows + 1 }, (_, i) => i * T),
      child: innerData,
    });
    const idValues = makeData({
      type: new Int32(),
      length: rows * T,
      data: this.pendingIds.slice(0, rows * T),
    });
    const idData = makeData({ type: this.idsType, length: rows, nullCount: 0, child: idValues });
    const struct = makeData({
      type: new Struct(this.schema.fields),
      length: rows,
      nullCount: 0,
      children: [outerData, idData],
    });
    return new RecordBatch(this.schema, struct);
  }

  private async flush(): Promise<void> {
    if (this.pending === 0) return;
    const rows = this.pending;
    const bytes = tableToIPC(new Table([this.batch(rows)]), 'stream');
    const name = shardName(this.shard, 0);
    // A shard's first batch keeps the schema message; later ones are the batch message alone.
    const body =
      this.shardSize === 0
        ? bytes.subarray(0, bytes.length - EOS_BYTES)
        : bytes.subarray(this.schemaBytes, bytes.length - EOS_BYTES);
    await this.sink.append(name, body);
    this.shardSize += body.length;
    this.rows += rows;
    this.pending = 0;
    if (this.shardSize >= (this.o.shardBytes ?? 500e6)) await this.closeShard();
  }

  private async closeShard(): Promise<void> {
    if (this.shardSize === 0) return;
    await this.sink.append(shardName(this.shard, 0), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    this.shard++;
    this.shardCount++;
    this.shardSize = 0;
  }

  /** Writes the last rows, closes the shards, names them -of-N and writes the JSON files. */
  async finish(): Promise<{ rows: number; files: string[] }> {
    if (this.finished) throw new Error('SaeLensCacheWriter: already finished');
    await this.flush();
    await this.closeShard();
    this.finished = true;
    const { T, d, hookName } = this.o;
    const files: string[] = [];
    for (let i = 0; i < this.shardCount; i++) {
      const to = shardName(i, this.shardCount);
      await this.sink.rename(shardName(i, 0), to);
      files.push(to);
    }
    const info = {
      builder_name: null,
      citation: '',
      config_name: null,
      dataset_name: null,
      dataset_size: null,
      description: JSON.stringify({ written_by: 'TempoSAE', ...this.o.description }),
      download_checksums: null,
      download_size: null,
      features: this.features(),
      homepage: '',
      license: '',
      size_in_bytes: null,
      splits: null,
      supervised_keys: null,
      version: null,
    };
    const state = {
      _data_files: files.map((filename) => ({ filename })),
      _fingerprint: fingerprint(hookName, T, d, this.rows),
      _format_columns: null,
      _format_kwargs: {},
      _format_type: null,
      _output_all_columns: false,
      _split: null,
    };
    await this.sink.writeText('dataset_info.json', JSON.stringify(info, null, 2));
    await this.sink.writeText('state.json', JSON.stringify(state, null, 2));
    return { rows: this.rows, files };
  }
}

/** A 16-hex-digit fingerprint (datasets wants one; any stable string will do). */
function fingerprint(...parts: (string | number)[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const ch of parts.join('|')) {
    const c = ch.codePointAt(0)!;
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}
