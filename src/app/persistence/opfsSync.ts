// Checkpoints streamed through OPFS sync access handles (FileSystemSyncAccessHandle: dedicated workers
// only), for the engine's worker: a save writes one part (tensor) at a time at its offset, a restore reads
// one tensor at a time at its offset, so peak extra memory is one tensor (src/io/checkpoint.ts
// streamCheckpoint / openCheckpoint).
//
// A save goes to `<name>.partial` beside the file, truncated first, flushed and closed at the end and
// then moved onto `<name>` (FileSystemHandle.move replaces the old file in one step): a crash or a
// terminated worker mid-save leaves the old file whole and a `.partial` that the next save of that name
// truncates, or sweepPartials removes. Every handle is closed on every path (a sync handle locks its file:
// an unclosed one blocks later saves, reads and deletes of it). Reads open a read-only handle per read
// and close it at once, so no reader keeps a lock on a checkpoint that may be pruned. Failures are
// messages that name the file: the quota (StorageFullError), a missing file, a read past the end, a
// file held by another handle.
import type { ByteReader, ByteSink } from '../../io/checkpoint';
import type { BlobStore } from './blobStore';
import { isQuotaError, StorageFullError } from './storageErrors';

/** The parts of FileSystemSyncAccessHandle used here (typed locally: TS's DOM lib leaves it to workers). */
export interface SyncAccessHandle {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** A file handle as the sync path uses it (createSyncAccessHandle and move are not in TS's DOM lib). */
export interface SyncFileHandle {
  readonly kind: 'file';
  getFile(): Promise<File>;
  createSyncAccessHandle(options?: { mode?: 'readwrite' | 'read-only' }): Promise<SyncAccessHandle>;
  move?(newName: string): Promise<void>;
}

/** A directory handle as the sync path uses it (FileSystemDirectoryHandle has these). */
export interface SyncDirHandle {
  readonly kind: 'directory';
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<SyncDirHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<SyncFileHandle>;
  removeEntry(name: string): Promise<void>;
  entries(): AsyncIterable<[string, SyncDirHandle | SyncFileHandle]>;
}

/** The suffix of a save in progress (or cut off by a crash). */
export const PARTIAL_SUFFIX = '.partial';

/** A failed file operation, in words that name the file. */
export class OpfsFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'OpfsFileError';
  }
}

/** True where this context can open sync access handles (a dedicated worker with OPFS). */
export function syncHandlesAvailable(): boolean {
  const proto = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle
    ?.prototype;
  return (
    !!proto && typeof (proto as { createSyncAccessHandle?: unknown }).createSyncAccessHandle === 'function'
  );
}

/** The OPFS root as the sync path types it. */
export async function opfsRoot(): Promise<SyncDirHandle> {
  return (await navigator.storage.getDirectory()) as unknown as SyncDirHandle;
}

function split(path: string): { dirs: string[]; name: string } {
  const parts = path.split('/').filter(Boolean);
  if (!parts.length) throw new OpfsFileError(path, 'no file name');
  return { dirs: parts.slice(0, -1), name: parts[parts.length - 1] };
}

function errName(e: unknown): string | undefined {
  return (e as { name?: string })?.name;
}

function isNotFound(e: unknown): boolean {
  return errName(e) === 'NotFoundError' || errName(e) === 'TypeMismatchError';
}

/** The folder of `path`; null when it does not exist and `create` is false. */
async function dirOf(root: SyncDirHandle, dirs: string[], create: boolean): Promise<SyncDirHandle | null> {
  let d = root;
  try {
    for (const name of dirs) d = await d.getDirectoryHandle(name, { create });
  } catch (e) {
    if (!create && isNotFound(e)) return null;
    throw e;
  }
  return d;
}

/** A sync handle on `fh`, a lock held elsewhere said as such. */
async function openHandle(
  fh: SyncFileHandle,
  file: string,
  mode: 'readwrite' | 'read-only',
): Promise<SyncAccessHandle> {
  try {
    return await fh.createSyncAccessHandle(mode === 'read-only' ? { mode } : undefined);
  } catch (e) {
    if (errName(e) === 'NoModificationAllowedError')
      throw new OpfsFileError(file, 'is open in another handle (another tab or worker is using it)');
    throw e;
  }
}

function closeQuietly(h: SyncAccessHandle | null): void {
  try {
    h?.close();
  } catch {
    // Already closed (or the worker's storage went away): nothing left to release.
  }
}

/** A storage failure of `file` in words: the quota as StorageFullError, anything else naming the file. */
function fileError(e: unknown, file: string, bytes: number, doing: string): Error {
  if (isQuotaError(e)) return new StorageFullError(file, bytes);
  if (e instanceof OpfsFileError || e instanceof StorageFullError) return e;
  return new OpfsFileError(file, `${doing} failed (${(e as Error)?.message ?? String(e)})`);
}

/** A ByteSink that writes each part at the end of an open sync handle; `bytes` counts what it took. */
class HandleSink implements ByteSink {
  bytes = 0;
  constructor(
    private readonly h: SyncAccessHandle,
    private readonly file: string,
  ) {}

  write(part: Uint8Array): void {
    let n: number;
    try {
      n = this.h.write(part, { at: this.bytes });
    } catch (e) {
      throw fileError(
        e,
        this.file,
        this.bytes + part.length,
        `writing ${part.length} bytes at ${this.bytes}`,
      );
    }
    // Over the quota, Chromium's write() does not throw: it returns a count that is not the part's
    // length (4294967288, base::File's FILE_ERROR_NO_SPACE −8 as an unsigned long; seen in
    // test/e2e/opfsSync.test.ts with the quota lowered). Other engines throw QuotaExceededError.
    if (n !== part.length) throw new StorageFullError(this.file, this.bytes + part.length);
    this.bytes += n;
  }
}

/**
 * Write `path` part by part as `fill` hands parts to the sink (streamCheckpoint(trainer, meta, sink)),
 * through `<path>.partial` moved onto `path` once complete; resolves with the bytes written. On any
 * failure the handle is closed, the partial file removed and the old `path` (if any) left as it was.
 * Storage failures name the file (a full quota is a StorageFullError); an error of `fill` itself (the
 * trainer's, a cancellation) passes through unchanged.
 */
export async function writeFileStreamed(
  root: SyncDirHandle,
  path: string,
  fill: (sink: ByteSink) => Promise<unknown> | unknown,
  /** Where the browser cannot move files (no FileSystemHandle.move): save this way instead. */
  withoutMove?: () => Promise<number>,
): Promise<number> {
  const { dirs, name } = split(path);
  const partial = name + PARTIAL_SUFFIX;
  let dir: SyncDirHandle | null = null;
  let h: SyncAccessHandle | null = null;
  let sink: HandleSink | null = null;
  const storage = async <T>(doing: string, op: () => Promise<T> | T): Promise<T> => {
    try {
      return await op();
    } catch (e) {
      throw fileError(e, path, sink?.bytes ?? 0, doing);
    }
  };
  try {
    dir = await storage('opening its folder', async () => (await dirOf(root, dirs, true))!);
    const fh = await storage(`creating ${partial}`, () => dir!.getFileHandle(partial, { create: true }));
    if (typeof fh.move !== 'function') {
      await dir.removeEntry(partial).catch(() => {});
      if (withoutMove) return await withoutMove();
      throw new OpfsFileError(path, 'this browser cannot rename OPFS files (FileSystemHandle.move)');
    }
    h = await storage(`opening ${partial}`, () => openHandle(fh, `${path}${PARTIAL_SUFFIX}`, 'readwrite'));
    // A save cut off earlier may have left bytes here.
    await storage(`truncating ${partial}`, () => h!.truncate(0));
    sink = new HandleSink(h, path);
    await fill(sink);
    const bytes = sink.bytes;
    await storage(`flushing ${partial}`, () => {
      h!.truncate(bytes);
      h!.flush();
      h!.close();
      h = null;
    });
    await storage(`moving ${partial} onto ${name}`, () => fh.move!(name));
    return bytes;
  } catch (e) {
    closeQuietly(h);
    if (dir) await dir.removeEntry(partial).catch(() => {});
    throw e;
  }
}

/**
 * Random-access reads of `path` (openCheckpoint(reader, path) then readTensor one at a time): each read
 * opens a read-only sync handle, reads exactly `length` bytes at `offset` and closes it. Null when
 * there is no such file. A read outside the file or one that comes back short throws, naming the file.
 */
export async function openFileReader(root: SyncDirHandle, path: string): Promise<ByteReader | null> {
  const { dirs, name } = split(path);
  const dir = await dirOf(root, dirs, false);
  if (!dir) return null;
  let fh: SyncFileHandle;
  try {
    fh = await dir.getFileHandle(name);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
  const size = (await fh.getFile()).size;
  return {
    size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
        throw new OpfsFileError(path, `bad read of ${length} bytes at ${offset}`);
      if (offset + length > size)
        throw new OpfsFileError(
          path,
          `a read of ${length} bytes at ${offset} passes the end of the file (${size} bytes)`,
        );
      let h: SyncAccessHandle | null = null;
      try {
        h = await openHandle(fh, path, 'read-only');
        const out = new Uint8Array(length);
        const n = h.read(out, { at: offset });
        if (n !== length)
          throw new OpfsFileError(path, `read ${n} of ${length} bytes at ${offset} (the file changed?)`);
        return out;
      } catch (e) {
        if (isNotFound(e)) throw new OpfsFileError(path, 'was removed while it was being read');
        throw fileError(e, path, 0, `reading ${length} bytes at ${offset}`);
      } finally {
        closeQuietly(h);
      }
    },
  };
}

/** Like openFileReader, but a missing file is an error naming it. */
export async function requireFileReader(root: SyncDirHandle, path: string): Promise<ByteReader> {
  const r = await openFileReader(root, path);
  if (!r) throw new OpfsFileError(path, 'not found');
  return r;
}

/**
 * Remove the `.partial` files under `prefix` that no handle holds (saves cut off by a crash); one that a
 * running save holds is skipped. Resolves with the paths removed.
 */
export async function sweepPartials(root: SyncDirHandle, prefix = ''): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: SyncDirHandle, base: string) => {
    for await (const [name, h] of dir.entries()) {
      const p = base ? `${base}/${name}` : name;
      if (h.kind === 'directory') {
        if (prefix.startsWith(p + '/') || p.startsWith(prefix)) await walk(h, p).catch(() => {});
      } else if (name.endsWith(PARTIAL_SUFFIX) && p.startsWith(prefix)) {
        // A save in progress holds its sync handle: removing that file fails, and it is left alone.
        await dir.removeEntry(name).then(
          () => void removed.push(p),
          () => {},
        );
      }
    }
  };
  await walk(root, '');
  return removed;
}

/**
 * The app's BlobStore with streamed saves and reads through sync handles (in the engine's worker):
 * putStream → writeFileStreamed, open → openFileReader; everything else is `base`'s (the OPFS store,
 * src/app/persistence/opfsStore.ts, whose createWritable works in workers too). Where the browser cannot
 * move files, saves stay with `base` (createWritable also replaces the file only when complete).
 */
export function opfsSyncStore(root: SyncDirHandle, base: BlobStore): BlobStore {
  return {
    kind: base.kind,
    put: (path, bytes) => base.put(path, bytes),
    get: (path) => base.get(path),
    list: (prefix) => base.list(prefix),
    delete: (path) => base.delete(path),
    blob: (path) => base.blob(path),
    putStream: (path, fill) => writeFileStreamed(root, path, fill, () => base.putStream(path, fill)),
    open: (path) => openFileReader(root, path),
  };
}
