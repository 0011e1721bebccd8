import { bytesReader, type ByteReader, type ByteSink } from '../../io/checkpoint';
import { concatParts } from '../../io/safetensors';

// The storage the app keeps runs in: a flat namespace of paths ("runs/run-3/run.json") to bytes.
// Implementations: OPFS (preferred: large files, no structured-clone copies), IndexedDB (fallback where
// OPFS writes are unavailable), memory (tests, and the last resort when the browser denies storage).

export interface StoredEntry {
  path: string;
  bytes: number;
}

export interface BlobStore {
  readonly kind: 'opfs' | 'indexeddb' | 'memory';
  /**
   * Write a whole file (replacing it), given as one buffer or as parts laid end to end (large
   * checkpoints: no concatenated copy). Rejects with StorageFullError when the quota is exhausted.
   */
  put(path: string, bytes: Uint8Array | Uint8Array[]): Promise<void>;
  get(path: string): Promise<Uint8Array | null>;
  /** Every stored file whose path starts with `prefix`, with its size. */
  list(prefix: string): Promise<StoredEntry[]>;
  /** Remove a file (no error when it does not exist). */
  delete(path: string): Promise<void>;
  /**
   * Write a file part by part as `fill` produces them (streamed checkpoints: one tensor in this page's
   * memory at a time); the file is replaced only when `fill` resolves. Resolves with the bytes written.
   */
  putStream(path: string, fill: (sink: ByteSink) => Promise<void>): Promise<number>;
  /** Random-access reads of a stored file (streamed restore), or null when there is none. */
  open(path: string): Promise<ByteReader | null>;
  /** A stored file as a Blob (OPFS: the file itself, not a copy in this page), for a download. */
  blob(path: string): Promise<Blob | null>;
}

/** In memory; `quotaBytes` lets tests simulate a full disk. */
/** Total length of what put() was given. */
export function byteLength(data: Uint8Array | Uint8Array[]): number {
  return Array.isArray(data) ? data.reduce((a, p) => a + p.length, 0) : data.length;
}

export function memoryStore(quotaBytes = Infinity): BlobStore & { used(): number } {
  const files = new Map<string, Uint8Array>();
  const used = () => [...files.values()].reduce((a, b) => a + b.length, 0);
  return {
    kind: 'memory',
    used,
    async put(path, data) {
      const old = files.get(path)?.length ?? 0;
      if (used() - old + byteLength(data) > quotaBytes) {
        throw new DOMException(`quota of ${quotaBytes} bytes exceeded`, 'QuotaExceededError');
      }
      files.set(path, Array.isArray(data) ? concatParts(data) : data.slice());
    },
    async get(path) {
      return files.get(path)?.slice() ?? null;
    },
    async list(prefix) {
      return [...files]
        .filter(([p]) => p.startsWith(prefix))
        .map(([path, b]) => ({ path, bytes: b.length }))
        .sort((a, b) => a.path.localeCompare(b.path));
    },
    async delete(path) {
      files.delete(path);
    },
    async putStream(path, fill) {
      const parts: Uint8Array[] = [];
      await fill({ write: (b) => void parts.push(b.slice()) });
      await this.put(path, parts);
      return byteLength(parts);
    },
    async open(path) {
      const f = files.get(path);
      return f ? bytesReader(f) : null;
    },
    async blob(path) {
      const f = files.get(path);
      return f ? new Blob([f as BlobPart]) : null;
    },
  };
}

/** Reads of a Blob or File by range: only the bytes asked for come into memory. */
export function blobReader(b: Blob): ByteReader {
  return {
    size: b.size,
    read: async (o, n) => new Uint8Array(await b.slice(o, o + n).arrayBuffer()),
  };
}
