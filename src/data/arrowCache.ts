// SAELens activation cache (CacheActivationsRunner → Hugging Face `datasets.save_to_disk`): a folder of
// dataset_info.json, state.json and data-*.arrow files in Arrow IPC *stream* format, one row per
// sequence. HF stores Array2D(shape=(T, d)) as an extension type whose storage is list<list<float>>
// (datasets/features/features.py `_ArrayXDExtensionType._generate_dtype`: plain lists, offsets
// included); `token_ids` is a Sequence(int32, length=T): fixed_size_list<int32>[T] or list<int32>.
// We accept List or FixedSizeList at each level.
//
// Memory: we never decode a whole record batch (HF writes up to 1000 rows per batch, hundreds of MB).
// We index the stream once (message headers only) and then read each row's bytes directly using the
// batch's buffer table: validity bit, offsets, values — every offset checked before use.
import { Type, type Field } from 'apache-arrow';
import { columnLayouts, indexStream, type BufferRef, type NodeRef } from './arrowIpc';
import type { ByteSource } from './byteSource';
import { DataFileError, check, guarded } from './errors';
import { decodeF16 } from './halfFloat';
import type { ActivationSource, SourceDtype } from './types';

/** The buffers and nodes of one column in one record batch, in Arrow's pre-order layout. */
interface ColumnLayout {
  nodes: NodeRef[];
  buffers: BufferRef[];
}
interface BatchIndex {
  src: ByteSource;
  /** Absolute offset of the message body. */
  body: number;
  bodyLength: number;
  rows: number;
  /** First dataset row of this batch. */
  firstRow: number;
  act: ColumnLayout;
  ids?: ColumnLayout;
}

/** Shape of the activation column: two list levels over a float, and of token_ids: one over an int. */
interface ColumnType {
  levels: { fixed: number | null }[];
  /** Bytes per value. */
  elem: number;
  kind: 'f32' | 'f16' | 'i32' | 'i64';
}

function describeColumn(f: Field, file: string, depth: number): ColumnType {
  const levels: { fixed: number | null }[] = [];
  let t = f.type;
  for (let i = 0; i < depth; i++) {
    if (t.typeId === Type.List) levels.push({ fixed: null });
    else if (t.typeId === Type.FixedSizeList)
      levels.push({ fixed: (t as unknown as { listSize: number }).listSize });
    else
      throw new DataFileError(
        file,
        `column '${f.name}' is ${String(f.type)}, expected ${depth} nested list level(s)`,
      );
    t = (t.children[0] as Field).type;
  }
  if (t.typeId === Type.Float) {
    const p = (t as unknown as { precision: number }).precision;
    if (p === 1) return { levels, elem: 4, kind: 'f32' };
    if (p === 0) return { levels, elem: 2, kind: 'f16' };
  }
  if (t.typeId === Type.Int) {
    const it = t as unknown as { bitWidth: number; isSigned: boolean };
    if (it.bitWidth === 32) return { levels, elem: 4, kind: 'i32' };
    if (it.bitWidth === 64 && it.isSigned) return { levels, elem: 8, kind: 'i64' };
  }
  throw new DataFileError(file, `column '${f.name}' holds ${String(t)}, which is not supported`);
}

export interface ArrowCacheOptions {
  /** Activation column; by default the one column named blocks.L.hook_*. */
  hookName?: string;
}

/**
 * Opens a SAELens cache folder given as its files (any order; JSON files optional). All .arrow files
 * must share one schema; rows are taken in state.json's `_data_files` order, else by file name.
 */
export async function openArrowCache(
  folderName: string,
  files: ByteSource[],
  opts: ArrowCacheOptions = {},
): Promise<ActivationSource> {
  const json = async (n: string): Promise<Record<string, unknown> | null> => {
    const f = files.find((x) => x.name === n);
    if (!f) return null;
    check(f.size <= 64 << 20, f.name, 'too large for a datasets metadata file');
    const text = new TextDecoder().decode(await f.read(0, f.size));
    return guarded(f.name, 'not valid JSON', () => JSON.parse(text) as Record<string, unknown>);
  };
  const state = await json('state.json');
  const info = await json('dataset_info.json');
  let arrows = files.filter((f) => f.name.endsWith('.arrow'));
  check(arrows.length > 0, folderName, 'no .arrow files in the folder');
  const order = (state?._data_files as { filename?: string }[] | undefined)?.map((d) => d.filename);
  if (Array.isArray(order) && order.every((o) => typeof o === 'string')) {
    const missing = order.filter((o) => !arrows.some((a) => a.name === o));
    check(missing.length === 0, folderName, `state.json lists ${missing.join(', ')}, which is missing`);
    arrows = order.map((o) => arrows.find((a) => a.name === o)!);
  } else {
    arrows = [...arrows].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  const batches: BatchIndex[] = [];
  let rows = 0;
  let hookName = opts.hookName;
  let actType: ColumnType | null = null;
  let idsType: ColumnType | null = null;
  let T = 0;
  let d = 0;
  // dataset_info.json gives [T, d] for the Array2D feature; otherwise the first row does.
  const features = (info?.features ?? {}) as Record<string, { shape?: unknown }>;
  for (const src of arrows) {
    // A corrupt schema can decode into fields with missing children or types; whatever breaks while
    // reading it is reported as a problem of this file.
    const { idx, lay, ai, ii, at, it } = await guarded(src.name, 'corrupt Arrow schema', async () => {
      const idx = await indexStream(src);
      const names = idx.schema.fields.map((f) => f.name);
      if (!hookName) {
        const hooks = names.filter((n) => /^blocks\.\d+\.hook_/.test(n));
        check(
          hooks.length > 0,
          src.name,
          `no activation column 'blocks.L.hook_*' (columns: ${names.join(', ') || 'none'})`,
        );
        check(hooks.length === 1, src.name, `several activation columns (${hooks.join(', ')}); choose one`);
        hookName = hooks[0];
      }
      const lay = columnLayouts(idx.schema, src.name);
      const ai = names.indexOf(hookName);
      check(ai >= 0, src.name, `no column '${hookName}' (columns: ${names.join(', ')})`);
      const ii = names.indexOf('token_ids');
      const at = describeColumn(idx.schema.fields[ai], src.name, 2);
      const it = ii >= 0 ? describeColumn(idx.schema.fields[ii], src.name, 1) : null;
      check(
        at.kind === 'f32' || at.kind === 'f16',
        src.name,
        `column '${hookName}' must hold float32 or float16`,
      );
      check(
        !it || it.kind === 'i32' || it.kind === 'i64',
        src.name,
        "column 'token_ids' must hold int32 or int64",
      );
      return { idx, lay, ai, ii, at, it };
    });
    if (!actType) {
      actType = at;
      idsType = it;
      const shape = features[hookName!]?.shape;
      if (Array.isArray(shape) && shape.length === 2 && shape.every((s) => Number.isSafeInteger(s) && s > 0))
        [T, d] = shape as number[];
    } else {
      check(
        at.kind === actType.kind,
        src.name,
        `column '${hookName}' has a different dtype than in ${arrows[0].name}`,
      );
      check(!!it === !!idsType, src.name, `token_ids present in some files but not others`);
    }
    for (const b of idx.batches) {
      const cut = (c: (typeof lay)[number]): ColumnLayout => {
        check(
          c.nodeStart + c.nodes <= b.nodes.length && c.bufStart + c.buffers <= b.buffers.length,
          src.name,
          'record batch has fewer buffers than its schema needs',
        );
        return {
          nodes: b.nodes.slice(c.nodeStart, c.nodeStart + c.nodes),
          buffers: b.buffers.slice(c.bufStart, c.bufStart + c.buffers),
        };
      };
      const act = cut(lay[ai]);
      check(act.nodes[0].length === b.rows, src.name, 'column length differs from the record batch length');
      if (b.rows === 0) continue;
      batches.push({
        src,
        body: b.body,
        bodyLength: b.bodyLength,
        rows: b.rows,
        firstRow: rows,
        act,
        ids: ii >= 0 ? cut(lay[ii]) : undefined,
      });
      rows += b.rows;
    }
  }
  check(rows > 0, folderName, 'the cache holds no rows');
  if (T === 0) {
    const first = batches[0];
    const r = await rowRanges(first, 0, actType!, 0, 0, first.src.name);
    T = r.outer;
    d = r.inner;
  }
  check(T > 0 && d > 0, folderName, `activation rows of shape [${T}, ${d}]`);
  if (actType!.levels[0].fixed !== null)
    check(
      actType!.levels[0].fixed === T,
      folderName,
      `fixed list size ${actType!.levels[0].fixed} ≠ T = ${T}`,
    );
  if (actType!.levels[1].fixed !== null)
    check(
      actType!.levels[1].fixed === d,
      folderName,
      `fixed list size ${actType!.levels[1].fixed} ≠ d = ${d}`,
    );
  const totalBytes = arrows.reduce((n, a) => n + a.size, 0);
  check(
    T * d * actType!.elem <= totalBytes,
    folderName,
    `rows of [${T}, ${d}] cannot fit in ${totalBytes} bytes of data`,
  );
  await rowRanges(batches[0], 0, actType!, T, d, batches[0].src.name); // the declared shape matches the data
  const dtype: SourceDtype = actType!.kind === 'f16' ? 'float16' : 'float32';
  const name = folderName;

  const findBatch = (row: number): BatchIndex => {
    let lo = 0;
    let hi = batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (batches[mid].firstRow <= row) lo = mid;
      else hi = mid - 1;
    }
    return batches[lo];
  };

  return {
    name,
    numSequences: rows,
    seqLen: T,
    d,
    dtype,
    hasTokenIds: !!idsType,
    async readSequences(indices) {
      const x = new Float32Array(indices.length * T * d);
      const tokenIds = idsType ? new Int32Array(indices.length * T) : undefined;
      for (let p = 0; p < indices.length; p++) {
        const row = indices[p];
        if (!Number.isInteger(row) || row < 0 || row >= rows)
          throw new RangeError(`${name}: sequence ${row} out of 0..${rows - 1}`);
        const b = findBatch(row);
        const r = row - b.firstRow;
        const file = b.src.name;
        const ranges = await rowRanges(b, r, actType!, T, d, file);
        const bytes = await readBuf(
          b,
          b.act.buffers[ranges.valuesBuf],
          ranges.start * actType!.elem,
          T * d * actType!.elem,
          file,
        );
        if (actType!.kind === 'f32') new Uint8Array(x.buffer, p * T * d * 4, T * d * 4).set(bytes);
        else decodeF16(bytes, T * d, x, p * T * d);
        if (tokenIds && b.ids) {
          const start = await idsStart(b, r, idsType!, T, file);
          const ib = await readBuf(
            b,
            b.ids.buffers[b.ids.buffers.length - 1],
            start * idsType!.elem,
            T * idsType!.elem,
            file,
          );
          const dv = new DataView(ib.buffer, ib.byteOffset, ib.byteLength);
          for (let t = 0; t < T; t++) {
            if (idsType!.kind === 'i32') tokenIds[p * T + t] = dv.getInt32(4 * t, true);
            else {
              const v = dv.getBigInt64(8 * t, true);
              check(v >= -2147483648n && v <= 2147483647n, file, `token id ${v} does not fit in int32`);
              tokenIds[p * T + t] = Number(v);
            }
          }
        }
      }
      return tokenIds ? { x, tokenIds } : { x };
    },
  };
}

async function readBuf(
  b: BatchIndex,
  buf: BufferRef,
  at: number,
  length: number,
  file: string,
): Promise<Uint8Array> {
  check(
    at >= 0 && at + length <= buf.length,
    file,
    `Arrow offsets point outside their buffer (record batch at byte ${b.body})`,
  );
  return b.src.read(b.body + buf.offset + at, length);
}

async function isNull(
  b: BatchIndex,
  node: NodeRef,
  validity: BufferRef,
  i: number,
  file: string,
): Promise<boolean> {
  if (node.nullCount === 0 || validity.length === 0) return false;
  const byte = await readBuf(b, validity, i >> 3, 1, file);
  return (byte[0] & (1 << (i & 7))) === 0;
}

async function offsetsAt(
  b: BatchIndex,
  buf: BufferRef,
  i: number,
  count: number,
  file: string,
): Promise<Int32Array> {
  const bytes = await readBuf(b, buf, 4 * i, 4 * count, file);
  const out = new Int32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < count; k++) out[k] = dv.getInt32(4 * k, true);
  return out;
}

/**
 * Follows row r of the activation column through its two list levels. With T = 0 (shape unknown) it
 * returns the row's shape. Buffers in pre-order: level0 [validity, offsets?], level1 [validity,
 * offsets?], values [validity, data].
 */
async function rowRanges(
  b: BatchIndex,
  r: number,
  ct: ColumnType,
  T: number,
  d: number,
  file: string,
): Promise<{ start: number; outer: number; inner: number; valuesBuf: number }> {
  const bufs = b.act.buffers;
  const nodes = b.act.nodes;
  let bi = 0;
  check(!(await isNull(b, nodes[0], bufs[0], r, file)), file, `row ${b.firstRow + r} is null`);
  // Level 0: row r → range [a0, a1) of level-1 items.
  let a0: number;
  let a1: number;
  if (ct.levels[0].fixed === null) {
    const o = await offsetsAt(b, bufs[1], r, 2, file);
    [a0, a1] = [o[0], o[1]];
    bi = 2;
  } else {
    a0 = r * ct.levels[0].fixed;
    a1 = a0 + ct.levels[0].fixed;
    bi = 1;
  }
  const outer = a1 - a0;
  check(outer > 0 && a0 >= 0 && a1 <= nodes[1].length, file, `row ${b.firstRow + r} has bad list offsets`);
  if (T) check(outer === T, file, `row ${b.firstRow + r} has ${outer} positions, expected ${T}`);
  // Level 1: items [a0, a1) → values [c0, c1), each item the same width.
  let c0: number;
  let inner: number;
  if (ct.levels[1].fixed === null) {
    const o = await offsetsAt(b, bufs[bi + 1], a0, outer + 1, file);
    c0 = o[0];
    inner = o[1] - o[0];
    for (let k = 1; k <= outer; k++) {
      check(o[k] - o[k - 1] === inner, file, `row ${b.firstRow + r} has positions of different widths`);
    }
    bi += 2;
  } else {
    inner = ct.levels[1].fixed;
    c0 = a0 * inner;
    bi += 1;
  }
  check(
    inner > 0 && c0 >= 0 && c0 + outer * inner <= nodes[2].length,
    file,
    `row ${b.firstRow + r} has bad value offsets`,
  );
  if (d) check(inner === d, file, `row ${b.firstRow + r} has width ${inner}, expected ${d}`);
  return { start: c0, outer, inner, valuesBuf: bi + 1 };
}

async function idsStart(b: BatchIndex, r: number, ct: ColumnType, T: number, file: string): Promise<number> {
  const ids = b.ids!;
  if (ct.levels[0].fixed === null) {
    const o = await offsetsAt(b, ids.buffers[1], r, 2, file);
    check(
      o[1] - o[0] === T && o[0] >= 0 && o[1] <= ids.nodes[1].length,
      file,
      `token_ids of row ${b.firstRow + r} do not have ${T} entries`,
    );
    return o[0];
  }
  check(ct.levels[0].fixed === T, file, `token_ids rows have ${ct.levels[0].fixed} entries, expected ${T}`);
  return r * T;
}
