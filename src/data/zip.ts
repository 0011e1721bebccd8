// Minimal zip reader for .npz (APPNOTE.TXT: end of central directory, central directory, local
// headers; zip64 records because numpy writes them for large arrays). Stored members are read in
// place. Deflated members have no random access: up to `maxInflateBytes` they are inflated into memory;
// a larger one is inflated once, streaming, into a scratch file when the caller gives one (else it is
// refused with advice). Inflated bytes are checked against the member's CRC-32.
import { Inflate, inflateSync } from 'fflate';
import { crc32 } from './crc32';
import { scratchKey, type Scratch } from './scratch';
import { bytesByteSource, sliceByteSource, type ByteSource } from './byteSource';
import { DataFileError, check, guarded } from './errors';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  /** CRC-32 of the uncompressed bytes (from the central directory). */
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOC_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

function u64(dv: DataView, at: number, file: string): number {
  const v = dv.getBigUint64(at, true);
  check(v <= BigInt(Number.MAX_SAFE_INTEGER), file, 'zip64 size or offset too large');
  return Number(v);
}

export async function readZipDirectory(src: ByteSource): Promise<ZipEntry[]> {
  const file = src.name;
  check(src.size >= 22, file, 'truncated file: too short for a zip archive');
  // The end record is in the last 22 + 65 535 (max comment) bytes.
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tail = await src.read(src.size - tailLen, tailLen);
  const tdv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tdv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  check(eocd >= 0, file, 'not a zip archive (no end of central directory record)');
  let count = tdv.getUint16(eocd + 10, true);
  let cdSize = tdv.getUint32(eocd + 12, true);
  let cdOffset = tdv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    check(loc >= 0 && tdv.getUint32(loc, true) === EOCD64_LOC_SIG, file, 'zip64 locator missing');
    const eocd64Off = u64(tdv, loc + 8, file);
    const rec = await src.read(eocd64Off, 56);
    const rdv = new DataView(rec.buffer, rec.byteOffset, 56);
    check(rdv.getUint32(0, true) === EOCD64_SIG, file, 'zip64 end record missing');
    count = u64(rdv, 32, file);
    cdSize = u64(rdv, 40, file);
    cdOffset = u64(rdv, 48, file);
  }
  check(cdOffset + cdSize <= src.size, file, 'zip central directory runs past the end of the file');
  check(count <= cdSize / 46, file, `zip claims ${count} entries in a ${cdSize}-byte directory`);
  const cd = await src.read(cdOffset, cdSize);
  const dv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let e = 0; e < count; e++) {
    check(
      p + 46 <= cdSize && dv.getUint32(p, true) === CEN_SIG,
      file,
      `bad zip central directory entry ${e}`,
    );
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    check(p + 46 + nameLen + extraLen + commentLen <= cdSize, file, `zip entry ${e} runs past the directory`);
    check((flags & 1) === 0, file, 'encrypted zip entries are not supported');
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field (id 1): only the fields that are 0xFFFFFFFF above are present, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        const end = Math.min(x + 4 + len, xEnd);
        const take = (): number => {
          check(q + 8 <= end, file, 'truncated zip64 extra field');
          const v = u64(dv, q, file);
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = take();
        if (compressedSize === U32_MAX) compressedSize = take();
        if (localHeaderOffset === U32_MAX) localHeaderOffset = take();
      }
      x += 4 + len;
    }
    entries.push({ name, method, crc32: crc, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export interface ZipMemberOptions {
  /** Largest deflated member inflated into memory (bytes). */
  maxInflateBytes: number;
  /** Where a larger deflated member is inflated to (streaming); without one it is refused. */
  scratch?: Scratch | null;
}

/** Compressed bytes read per step of a streaming inflate (the only large buffer it holds). */
const INFLATE_READ_BYTES = 8 << 20;
/** Compressed bytes given to the inflater at once. */
const INFLATE_PUSH_BYTES = 64 << 10;

/** A ByteSource over one member: a window of the archive when stored, the inflated bytes when deflated. */
export async function openZipMember(
  src: ByteSource,
  entry: ZipEntry,
  opts: ZipMemberOptions,
): Promise<ByteSource> {
  const file = `${src.name}/${entry.name}`;
  check(entry.localHeaderOffset + 30 <= src.size, file, 'local header past the end of the archive');
  const lh = await src.read(entry.localHeaderOffset, 30);
  const ldv = new DataView(lh.buffer, lh.byteOffset, 30);
  check(ldv.getUint32(0, true) === LOC_SIG, file, 'bad zip local header');
  const dataStart = entry.localHeaderOffset + 30 + ldv.getUint16(26, true) + ldv.getUint16(28, true);
  check(
    dataStart + entry.compressedSize <= src.size,
    file,
    'truncated file: member data runs past the end of the archive',
  );
  if (entry.method === 0) {
    check(
      entry.compressedSize === entry.size,
      file,
      'stored member with different compressed and uncompressed sizes',
    );
    return sliceByteSource(src, dataStart, entry.size, file);
  }
  if (entry.method !== 8) throw new DataFileError(file, `unsupported zip compression method ${entry.method}`);
  if (entry.size > opts.maxInflateBytes && opts.scratch) {
    return inflateToScratch(src, entry, dataStart, opts.scratch, file);
  }
  if (entry.size > opts.maxInflateBytes) {
    throw new DataFileError(
      file,
      `compressed member of ${(entry.size / 2 ** 20).toFixed(0)} MB exceeds the ${(opts.maxInflateBytes / 2 ** 20).toFixed(0)} MB memory cap; ` +
        'save with np.savez (not savez_compressed) or as .npy so it can be streamed',
    );
  }
  const comp = await src.read(dataStart, entry.compressedSize);
  const out = await guarded(file, 'corrupt deflate data', () =>
    inflateSync(comp, { out: new Uint8Array(entry.size) }),
  );
  check(out.length === entry.size, file, `inflated to ${out.length} bytes, the directory says ${entry.size}`);
  check(crc32(out) === entry.crc32, file, 'corrupt member: its CRC-32 does not match the inflated bytes');
  return bytesByteSource(out, file);
}

/** Inflate a member chunk by chunk into a scratch file (or reuse the one made earlier for it). */
async function inflateToScratch(
  src: ByteSource,
  entry: ZipEntry,
  dataStart: number,
  scratch: Scratch,
  file: string,
): Promise<ByteSource> {
  const key = scratchKey(entry.crc32, entry.size);
  const again = await scratch.reuse(key, entry.size);
  if (again) return renamed(again, file);
  const w = await scratch.create(key);
  try {
    let written = 0,
      crc = 0;
    let pending: Uint8Array[] = [];
    const inflater = new Inflate((chunk) => {
      // A hostile member may claim a small size and inflate to far more: stop at the claimed size.
      written += chunk.length;
      check(written <= entry.size, file, `inflates past the ${entry.size} bytes the directory says`);
      crc = crc32(chunk, crc);
      pending.push(chunk);
    });
    for (let off = 0; off < entry.compressedSize; off += INFLATE_READ_BYTES) {
      const n = Math.min(INFLATE_READ_BYTES, entry.compressedSize - off);
      const comp = await src.read(dataStart + off, n);
      // Pushed in small slices: the inflater allocates one output buffer per push (≤ 1032× its input
      // for a hostile stream), so the bytes held at once stay small; each slice's output is written out.
      for (let q = 0; q < n; q += INFLATE_PUSH_BYTES) {
        const part = comp.subarray(q, Math.min(n, q + INFLATE_PUSH_BYTES));
        const final = off + q + part.length >= entry.compressedSize;
        await guarded(file, 'corrupt deflate data', () => inflater.push(part, final));
        for (const c of pending) await w.write(c);
        pending = [];
      }
    }
    check(written === entry.size, file, `inflated to ${written} bytes, the directory says ${entry.size}`);
    check(crc === entry.crc32, file, 'corrupt member: its CRC-32 does not match the inflated bytes');
    return renamed(await w.finish(), file);
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/** The scratch file under the member's name (messages name the archive member, not the cache file). */
function renamed(s: ByteSource, name: string): ByteSource {
  return { name, size: s.size, read: (o, l) => s.read(o, l), close: s.close?.bind(s) };
}
