// Arrow IPC stream indexing without decoding data (Arrow columnar format spec: "Encapsulated message
// format", "Buffer Listing for Each Layout"). We walk the messages reading only their metadata, keep
// each record batch's node and buffer tables, and let the caller read exactly the bytes it needs.
// Hostile input: every length is checked against the file, and flatbuffers metadata is decoded with
// vector lengths bounded by the message (see boundedFlatbuffers).
import { Message, MessageHeader, Type, type Field, type Schema } from 'apache-arrow';
// apache-arrow's own flatbuffers runtime (its dependency, hoisted): used only to bound vector lengths.
import { ByteBuffer } from 'flatbuffers';
import type { ByteSource } from './byteSource';
import { DataFileError, check, guarded } from './errors';

/**
 * Flatbuffers trusts the vector lengths it reads, and apache-arrow loops over them: a corrupt length
 * of 2^31 makes it allocate until the tab dies (found by the fuzz test). While `fn` decodes metadata,
 * every vector must fit inside the message it is read from (each element takes at least one byte).
 */
function boundedFlatbuffers<T>(fn: () => T): T {
  const proto = ByteBuffer.prototype as unknown as {
    __vector_len(this: ByteBuffer, offset: number): number;
    __vector(this: ByteBuffer, offset: number): number;
  };
  const orig = proto.__vector_len;
  proto.__vector_len = function (this: ByteBuffer, offset: number): number {
    const n = orig.call(this, offset);
    const start = proto.__vector.call(this, offset);
    if (n < 0 || start < 0 || start + n > this.capacity()) {
      throw new Error(`a flatbuffer vector of ${n} entries runs past its ${this.capacity()}-byte message`);
    }
    return n;
  };
  try {
    return fn();
  } finally {
    proto.__vector_len = orig;
  }
}

export interface BufferRef {
  offset: number;
  length: number;
}
export interface NodeRef {
  length: number;
  nullCount: number;
}
/** Buffers and nodes a field occupies (Arrow columnar format, "Buffer Listing for Each Layout"). */
export function countLayout(f: Field, file: string): { nodes: number; buffers: number } {
  const t = f.type;
  const kids = (t.children ?? []) as Field[];
  const sub = kids.reduce(
    (a, c) => {
      const k = countLayout(c, file);
      return { nodes: a.nodes + k.nodes, buffers: a.buffers + k.buffers };
    },
    { nodes: 0, buffers: 0 },
  );
  let own: number;
  switch (t.typeId) {
    case Type.Null:
      own = 0;
      break;
    case Type.Int:
    case Type.Float:
    case Type.Bool:
    case Type.Decimal:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.FixedSizeBinary:
    case Type.Duration:
    case Type.Dictionary:
      own = 2;
      break;
    case Type.Binary:
    case Type.Utf8:
    case Type.LargeBinary:
    case Type.LargeUtf8:
      own = 3;
      break;
    case Type.List:
    case Type.LargeList:
    case Type.Map:
      own = 2;
      break;
    case Type.FixedSizeList:
    case Type.Struct:
      own = 1;
      break;
    case Type.Union:
      own = (t as unknown as { mode: number }).mode === 0 ? 1 : 2;
      break;
    default:
      throw new DataFileError(
        file,
        `column '${f.name}' has an Arrow type this reader cannot skip (${String(t)})`,
      );
  }
  return { nodes: 1 + sub.nodes, buffers: own + sub.buffers };
}

export interface StreamIndex {
  schema: Schema;
  batches: { body: number; bodyLength: number; rows: number; nodes: NodeRef[]; buffers: BufferRef[] }[];
}

/** Walks the messages of an Arrow IPC stream (or file) reading only metadata. */
export async function indexStream(src: ByteSource): Promise<StreamIndex> {
  const file = src.name;
  let pos = 0;
  check(src.size >= 8, file, 'truncated file: too short for an Arrow stream');
  const magic = await src.read(0, 6);
  if (new TextDecoder().decode(magic) === 'ARROW1') pos = 8; // Arrow *file* format: the stream follows the magic
  let schema: Schema | null = null;
  const batches: StreamIndex['batches'] = [];
  for (let guard = 0; ; guard++) {
    check(guard < 10_000_000, file, 'too many Arrow messages');
    if (pos + 4 > src.size) {
      check(schema, file, 'truncated file: no Arrow schema message');
      break; // end of stream without an explicit end marker
    }
    const pre = await src.read(pos, Math.min(8, src.size - pos));
    const dv = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
    let metaLen = dv.getInt32(0, true);
    let metaStart = pos + 4;
    if (metaLen === -1) {
      check(pre.length >= 8, file, 'truncated file: message length missing');
      metaLen = dv.getInt32(4, true);
      metaStart = pos + 8;
    }
    if (metaLen === 0) break; // end-of-stream marker
    check(metaLen > 0, file, `bad Arrow message length ${metaLen} at byte ${pos}`);
    check(
      metaStart + metaLen <= src.size,
      file,
      `Arrow message at byte ${pos} runs past the end of the file`,
    );
    const meta = await src.read(metaStart, metaLen);
    const msg = await guarded(file, `corrupt Arrow message at byte ${pos}`, () =>
      boundedFlatbuffers(() => Message.decode(meta)),
    );
    const body = metaStart + metaLen;
    const bodyLength = msg.bodyLength;
    check(
      Number.isSafeInteger(bodyLength) && bodyLength >= 0 && body + bodyLength <= src.size,
      file,
      `truncated file: Arrow message body at byte ${body} (${bodyLength} bytes) runs past the end (${src.size})`,
    );
    if (msg.headerType === MessageHeader.Schema) {
      check(!schema, file, 'second Arrow schema message in one stream');
      schema = await guarded(file, 'corrupt Arrow schema', () =>
        boundedFlatbuffers(() => msg.header() as Schema),
      );
    } else if (msg.headerType === MessageHeader.RecordBatch) {
      check(schema, file, 'record batch before the schema');
      const rb = await guarded(file, 'corrupt Arrow record batch', () => {
        const h = boundedFlatbuffers(() => msg.header()) as unknown as {
          length: number;
          nodes: NodeRef[];
          buffers: BufferRef[];
          compression: unknown;
        };
        return {
          length: Number(h.length),
          nodes: h.nodes.map((n) => ({ length: Number(n.length), nullCount: Number(n.nullCount) })),
          buffers: h.buffers.map((b) => ({ offset: Number(b.offset), length: Number(b.length) })),
          compression: h.compression,
        };
      });
      check(!rb.compression, file, 'compressed Arrow record batches (LZ4/ZSTD) are not supported');
      check(Number.isSafeInteger(rb.length) && rb.length >= 0, file, 'bad record batch length');
      for (const b of rb.buffers) {
        check(
          Number.isSafeInteger(b.offset) &&
            Number.isSafeInteger(b.length) &&
            b.offset >= 0 &&
            b.length >= 0 &&
            b.offset + b.length <= bodyLength,
          file,
          `Arrow buffer outside its message body at byte ${body}`,
        );
      }
      batches.push({ body, bodyLength, rows: rb.length, nodes: rb.nodes, buffers: rb.buffers });
    } else if (msg.headerType !== MessageHeader.DictionaryBatch) {
      throw new DataFileError(file, `unexpected Arrow message type ${msg.headerType}`);
    }
    pos = body + bodyLength;
  }
  return { schema: schema!, batches };
}

/** Slices of a batch's node/buffer tables that belong to each column. */
export function columnLayouts(
  schema: Schema,
  file: string,
): { name: string; nodeStart: number; bufStart: number; nodes: number; buffers: number }[] {
  let n = 0;
  let b = 0;
  return schema.fields.map((f) => {
    const c = countLayout(f, file);
    const r = { name: f.name, nodeStart: n, bufStart: b, nodes: c.nodes, buffers: c.buffers };
    n += c.nodes;
    b += c.buffers;
    return r;
  });
}
