// Scratch files in the browser: a folder of the Origin Private File System. createWritable() commits a
// file only on close(), so a file under its final name is always whole; the same member dropped again
// (or after a reload) is read from it without inflating again. Space is reclaimed by clearScratch().
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
        return file.size === size ? blobByteSource(file, key) : null;
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

/** Remove every scratch file (they are caches: a later open inflates again). */
export async function clearScratch(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(DIR, { recursive: true }).catch(() => {});
}
