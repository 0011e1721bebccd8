// Scratch files in the browser: a folder of the Origin Private File System. createWritable() commits a
// file only on close(), so a file under its final name is always whole; the same member dropped again
// (or after a reload) is read from it without inflating again. The Storage panel shows their size and
// clears the ones the page is not reading from (clearScratch).
import { blobByteSource } from './byteSource';
import type { Scratch } from './scratch';

const DIR = 'temposae-scratch';

type Writable = { write(b: Uint8Array): Promise<void>; close(): Promise<void>; abort(): Promise<void> };

async function scratchDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIR, { create: true });
}

/** Null where OPFS (or writing to it) is unavailable: callers then keep the in-memory cap. */
export async function opfsScratch(): Promise<Scratch | null> {
  try {
    await scratchDir();
  } catch {
    return null;
  }
  return {
    async reuse(key, size) {
      try {
        const file = await (await (await scratchDir()).getFileHandle(key)).getFile();
        if (file.size !== size) return null;
        inUse.add(key);
        return blobByteSource(file, key);
      } catch {
        return null;
      }
    },
    async create(key) {
      const dir = await scratchDir();
      const fh = await dir.getFileHandle(key, { create: true });
      const w = (await (
        fh as unknown as { createWritable(): Promise<Writable> }
      ).createWritable()) as Writable;
      return {
        write: (b) => w.write(b),
        async finish() {
          await w.close();
          inUse.add(key);
          return blobByteSource(await fh.getFile(), key);
        },
        async abort() {
          await w.abort().catch(() => {});
          await dir.removeEntry(key).catch(() => {});
        },
      };
    },
  };
}

/** Scratch files opened in this page: data loaded from them may still be read, so they are kept. */
const inUse = new Set<string>();

type DirEntries = { entries(): AsyncIterable<[string, FileSystemHandle]> };

async function listScratch(): Promise<{ name: string; bytes: number }[]> {
  const out: { name: string; bytes: number }[] = [];
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(DIR);
  } catch {
    return out; // none yet
  }
  for await (const [name, h] of (dir as unknown as DirEntries).entries()) {
    if (h.kind !== 'file') continue;
    const bytes = await (h as FileSystemFileHandle)
      .getFile()
      .then((f) => f.size)
      .catch(() => null); // removed meanwhile
    if (bytes !== null) out.push({ name, bytes });
  }
  return out;
}

/** Bytes of scratch files, and how many of them are in use by this page. */
export async function scratchUsage(): Promise<{ bytes: number; files: number; inUse: number }> {
  const all = await listScratch();
  return {
    bytes: all.reduce((a, f) => a + f.bytes, 0),
    files: all.length,
    inUse: all.filter((f) => inUse.has(f.name)).length,
  };
}

/** Remove the scratch files this page is not reading from (they are caches: a later open inflates again). */
export async function clearScratch(): Promise<void> {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(DIR).catch(() => null);
  if (!dir) return;
  for (const f of await listScratch()) if (!inUse.has(f.name)) await dir.removeEntry(f.name).catch(() => {});
}
