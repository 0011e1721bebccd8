// Random access to the bytes of one file, the same in the browser (File/Blob.slice) and in Node
// (a file handle, see nodeByteSource.ts). Parsers read only headers and the sequences they need, so a
// file of any size is never held in memory whole.
import { DataFileError } from './errors';

export interface ByteSource {
  /** File name (shown in messages). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; a DataFileError if the range passes the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Release the file handle, if any. */
  close?(): Promise<void>;
}

/** Rejects ranges outside the file before any read happens. */
export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > src.size
  ) {
    throw new DataFileError(
      src.name,
      `truncated file: needs bytes ${offset}..${offset + length} but the file has ${src.size}`,
    );
  }
}

/** A Blob or File (browser drag-and-drop / file picker). */
export function blobByteSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(this, offset, length);
      const buf = await blob.slice(offset, offset + length).arrayBuffer();
      return new Uint8Array(buf);
    },
  };
}

/** Bytes already in memory (tests, members of a stored zip, inflated npz members). */
export function bytesByteSource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.length,
    async read(offset, length) {
      checkRange(this, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** A window [start, start+size) of another source (an uncompressed member of a zip). */
export function sliceByteSource(src: ByteSource, start: number, size: number, name: string): ByteSource {
  checkRange(src, start, size);
  return {
    name,
    size,
    async read(offset, length) {
      checkRange(this, offset, length);
      return src.read(start + offset, length);
    },
  };
}
