// BlobStore on the Origin Private File System: one OPFS file per path, folders per path segment.
// Files are written through createWritable(), which only replaces the file when close() succeeds, so a
// failed write (quota) leaves the previous version intact.
import { blobReader, byteLength, type BlobStore, type StoredEntry } from './blobStore';
import { storageWriteError } from './storageErrors';
import { PARTIAL_SUFFIX } from './opfsSync';

type DirWithEntries = FileSystemDirectoryHandle & {
  entries(): AsyncIterable<[string, FileSystemDirectoryHandle | FileSystemFileHandle]>;
};

function split(path: string): { dirs: string[]; name: string } {
  const parts = path.split('/').filter(Boolean);
  return { dirs: parts.slice(0, -1), name: parts[parts.length - 1] };
}

async function dirOf(root: FileSystemDirectoryHandle, dirs: string[], create: boolean) {
  let d = root;
  for (const name of dirs) d = await d.getDirectoryHandle(name, { create });
  return d;
}

function isNotFound(e: unknown): boolean {
  const n = (e as { name?: string })?.name;
  return n === 'NotFoundError' || n === 'TypeMismatchError';
}

function skipGone(e: unknown): undefined {
  if (isNotFound(e)) return undefined;
  throw e;
}

/** Opens the OPFS root and checks that files can be written there (some browsers allow reads only). */
export async function openOpfsStore(): Promise<BlobStore> {
  const root = await navigator.storage.getDirectory();
  const probe = await root.getFileHandle('.temposae-probe', { create: true });
  if (typeof (probe as { createWritable?: unknown }).createWritable !== 'function') {
    throw new Error('OPFS files cannot be written from the page in this browser');
  }
  await root.removeEntry('.temposae-probe');
  const fileOf = async (path: string): Promise<File | null> => {
    const { dirs, name } = split(path);
    try {
      const dir = await dirOf(root, dirs, false);
      return await (await dir.getFileHandle(name)).getFile();
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  };
  return {
    kind: 'opfs',
    async put(path, data) {
      const parts = Array.isArray(data) ? data : [data];
      const { dirs, name } = split(path);
      try {
        const dir = await dirOf(root, dirs, true);
        const fh = await dir.getFileHandle(name, { create: true });
        const w = await fh.createWritable();
        try {
          for (const p of parts) await w.write(p as Uint8Array<ArrayBuffer>);
          await w.close();
        } catch (e) {
          await w.abort().catch(() => {});
          throw e;
        }
      } catch (e) {
        throw storageWriteError(e, path, byteLength(data));
      }
    },
    async putStream(path, fill) {
      const { dirs, name } = split(path);
      let bytes = 0;
      try {
        const dir = await dirOf(root, dirs, true);
        const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
        try {
          // Each part goes to the file as it comes (createWritable keeps the old file until close()).
          await fill({
            write: async (b) => {
              await w.write(b as Uint8Array<ArrayBuffer>);
              bytes += b.length;
            },
          });
          await w.close();
        } catch (e) {
          await w.abort().catch(() => {});
          throw e;
        }
      } catch (e) {
        throw storageWriteError(e, path, bytes);
      }
      return bytes;
    },
    async open(path) {
      const f = await fileOf(path);
      return f ? blobReader(f) : null;
    },
    blob: (path) => fileOf(path),
    async get(path) {
      const { dirs, name } = split(path);
      try {
        const dir = await dirOf(root, dirs, false);
        const file = await (await dir.getFileHandle(name)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async list(prefix) {
      const out: StoredEntry[] = [];
      // Checkpoints are pruned and runs deleted while a listing walks the tree (the storage panel
      // refreshes after every save): an entry or folder that vanishes mid-walk is simply not listed.
      const walk = async (dir: FileSystemDirectoryHandle, base: string) => {
        for await (const [name, h] of (dir as DirWithEntries).entries()) {
          const p = base ? `${base}/${name}` : name;
          if (h.kind === 'directory') {
            // Only descend where the prefix can still match.
            if (prefix.startsWith(p + '/') || p.startsWith(prefix) || (p + '/').startsWith(prefix))
              await walk(h as FileSystemDirectoryHandle, p).catch(skipGone);
          } else if (
            p.startsWith(prefix) &&
            !name.startsWith('.temposae-probe') &&
            // A save in progress in the engine's worker (opfsSync.ts): not a stored file yet, and its
            // sync access handle may lock it against getFile().
            !name.endsWith(PARTIAL_SUFFIX)
          ) {
            const size = await (h as FileSystemFileHandle)
              .getFile()
              .then((f) => f.size)
              .catch(skipGone);
            if (size !== undefined) out.push({ path: p, bytes: size });
          }
        }
      };
      await walk(root, '');
      return out.sort((a, b) => a.path.localeCompare(b.path));
    },
    async delete(path) {
      const { dirs, name } = split(path);
      try {
        const dir = await dirOf(root, dirs, false);
        await dir.removeEntry(name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
  };
}
