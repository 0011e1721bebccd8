// Scratch files: bytes that must be rewritten before they can be read at random. A deflated .npz
// member has no random access, so one larger than the in-memory cap is inflated once, streaming, into
// a scratch file (OPFS in the browser, the temp folder in Node) and then read like a stored member:
// host memory stays bounded whatever the member's size.
import type { ByteSource } from './byteSource';

export interface ScratchWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** Commit the file and open it for reading. */
  finish(): Promise<ByteSource>;
  /** Drop what was written (a failed inflate leaves nothing behind). */
  abort(): Promise<void>;
}

export interface Scratch {
  /**
   * A complete scratch file saved earlier under `key` (same archive member: the key carries its
   * CRC-32 and size), or null. `size` is the expected length: a file of another length is ignored.
   */
  reuse(key: string, size: number): Promise<ByteSource | null>;
  create(key: string): Promise<ScratchWriter>;
}

/** A file-name-safe key for a zip member: its CRC-32 and uncompressed size identify its bytes. */
export function scratchKey(crc: number, size: number): string {
  return `inflated-${crc.toString(16).padStart(8, '0')}-${size}.bin`;
}
