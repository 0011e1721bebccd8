// Pick the browser's storage: OPFS, else IndexedDB, else memory with a clear warning. Also asks for
// persistent storage so the browser does not evict runs under pressure (a refusal is not an error).
import { memoryStore, type BlobStore } from './blobStore';
import { openIdbStore } from './idbStore';
import { openOpfsStore } from './opfsStore';
import { StorageDeniedError } from './storageErrors';

export interface OpenedStore {
  store: BlobStore;
  /** Why the preferred storage was not used (empty when OPFS works). */
  notes: string[];
  /** Set when nothing persistent is available: runs last only as long as the tab. */
  denied: StorageDeniedError | null;
}

/** localStorage key that picks the storage ('opfs' | 'indexeddb' | 'memory'), for browsers whose OPFS misbehaves. */
export const STORAGE_PREFERENCE_KEY = 'temposae.storage';

function preference(): string | null {
  try {
    return localStorage.getItem(STORAGE_PREFERENCE_KEY);
  } catch {
    return null;
  }
}

export async function openBrowserStore(): Promise<OpenedStore> {
  const notes: string[] = [];
  try {
    await navigator.storage?.persist?.();
  } catch {
    // Persistence is a request, not a requirement.
  }
  const pref = preference();
  if (pref === 'memory') {
    notes.push(`${STORAGE_PREFERENCE_KEY} = memory: runs are not saved`);
    return { store: memoryStore(), notes, denied: null };
  }
  if (pref !== 'indexeddb') {
    try {
      return { store: await openOpfsStore(), notes, denied: null };
    } catch (e) {
      notes.push(`OPFS unavailable (${(e as Error).message}); using IndexedDB`);
    }
  } else notes.push(`${STORAGE_PREFERENCE_KEY} = indexeddb`);
  try {
    return { store: await openIdbStore(), notes, denied: null };
  } catch (e) {
    notes.push(`IndexedDB unavailable (${(e as Error).message})`);
    return { store: memoryStore(), notes, denied: new StorageDeniedError(notes.join('; ')) };
  }
}

/** Bytes used and available to this origin, as the browser estimates them (null where unsupported). */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  try {
    const e = await navigator.storage?.estimate?.();
    return e && typeof e.usage === 'number' && typeof e.quota === 'number'
      ? { usage: e.usage, quota: e.quota }
      : null;
  } catch {
    return null;
  }
}
