// BlobStore on IndexedDB (one object store, key = path, value = bytes), for browsers where OPFS files
// cannot be written from the page. Sizes are kept beside the bytes so listing does not read every file.
import type { BlobStore } from './blobStore';
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
  return {
    kind: 'indexeddb',
    async put(path, bytes) {
      try {
        const t = tx('readwrite');
        t.objectStore(STORE).put({ bytes: bytes.slice(), size: bytes.length }, path);
        await done(t);
      } catch (e) {
        throw storageWriteError(e, path, bytes.length);
      }
    },
    async get(path) {
      const v = (await req(tx('readonly').objectStore(STORE).get(path))) as { bytes: Uint8Array } | undefined;
      return v ? v.bytes : null;
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
