// Minimal zip reader for .npz (APPNOTE.TXT: end of central directory, central directory, local
// headers; zip64 records because numpy writes them for large arrays). Stored members are read in
// place; deflated members must be inflated whole (deflate has no random access), so their
// uncompressed size is bounded by `maxInflateBytes` and a larger one is refused with advice.
import { inflateSync } from 'fflate';
import { bytesByteSource, sliceByteSource, type ByteSource } from './byteSource';
import { DataFileError, check, guarded } from './errors';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
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
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export interface ZipMemberOptions {
  /** Largest deflated member inflated into memory (bytes). */
  maxInflateBytes: number;
}

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
  return bytesByteSource(out, file);
}
