// BlobStore on IndexedDB (one object store, key = path, value = bytes), for browsers where OPFS files
// cannot be written from the page. Sizes are kept beside the bytes so listing does not read every file.
import { blobReader, byteLength, type BlobStore } from './blobStore';
import { storageWriteError } from './storageErrors';

const DB = 'temposae';
const STORE = 'files';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}

export async function openIdbStore(): Promise<BlobStore> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await req(open);
  const tx = (mode: IDBTransactionMode) => db.transaction(STORE, mode);
  const blobOf = async (path: string): Promise<Blob | null> => {
    const v = (await req(tx('readonly').objectStore(STORE).get(path))) as { blob: Blob } | undefined;
    return v?.blob ?? null;
  };
  return {
    kind: 'indexeddb',
    async put(path, data) {
      const size = byteLength(data);
      try {
        const t = tx('readwrite');
        // A Blob of the parts: the browser stores it without another copy in this page's memory.
        const blob = new Blob((Array.isArray(data) ? data : [data]) as BlobPart[]);
        t.objectStore(STORE).put({ blob, size }, path);
        await done(t);
      } catch (e) {
        throw storageWriteError(e, path, size);
      }
    },
    async putStream(path, fill) {
      // Each part becomes a Blob as it comes (the browser holds it, not this page's heap), then one put.
      const blobs: Blob[] = [];
      let bytes = 0;
      await fill({
        write: (b) => {
          blobs.push(new Blob([b as BlobPart]));
          bytes += b.length;
        },
      });
      const t = tx('readwrite');
      try {
        t.objectStore(STORE).put({ blob: new Blob(blobs), size: bytes }, path);
        await done(t);
      } catch (e) {
        throw storageWriteError(e, path, bytes);
      }
      return bytes;
    },
    async open(path) {
      const b = await blobOf(path);
      return b ? blobReader(b) : null;
    },
    blob: (path) => blobOf(path),
    async get(path) {
      const v = (await req(tx('readonly').objectStore(STORE).get(path))) as { blob: Blob } | undefined;
      return v ? new Uint8Array(await v.blob.arrayBuffer()) : null;
    },
    async list(prefix) {
      const range = IDBKeyRange.bound(prefix, prefix + '\uffff');
      const store = tx('readonly').objectStore(STORE);
      const [keys, values] = await Promise.all([req(store.getAllKeys(range)), req(store.getAll(range))]);
      return keys.map((k, i) => ({ path: String(k), bytes: (values[i] as { size: number }).size }));
    },
    async delete(path) {
      const t = tx('readwrite');
      t.objectStore(STORE).delete(path);
      await done(t);
    },
  };
}
