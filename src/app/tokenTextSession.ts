// Token text for the page (issue 10): the one place that decides which TokenText a dataset has, for
// every source (built-in vocabulary, a vocabulary JSON, a tokenizer.json, a SAELens cache folder with
// token_ids and a tokenizer), whether it came with the data or after it; and the memory that keeps it
// across a reload. The data session calls in here; the inspector, exports and report read
// tokenTextOfRun.
// Memory: the tokenizer files' bytes are kept in IndexedDB under the data's identity (its label and
// shape, as src/app/persistence/dataRef.ts names user files), so that dropping the same activations
// again after a reload brings their text back without the tokenizer. The built-in data needs none.
import type { ByteSource } from '../data/byteSource';
import { bytesByteSource } from '../data/byteSource';
import { isTokenTextFile, tokenTextFromFiles, vocabularyTokenText, type TokenText } from '../data/tokenText';
import type { ActivationSource } from '../data/types';
import { findRun } from '../store/runsStore';
import { getLoadedData } from './dataSession';

const DB = 'temposae-token-text';
const STORE = 'byData';

/** The key under which a dataset's token text is remembered. */
export function dataIdentity(s: Pick<ActivationSource, 'name' | 'numSequences' | 'seqLen' | 'd'>): string {
  return `${s.name}|${s.numSequences}|${s.seqLen}|${s.d}`;
}

/** Files of a drop that give token text (tokenizer.json, tokenizer_config.json, vocab*.json). */
export function tokenTextFilesOf(files: ByteSource[]): ByteSource[] {
  return files.filter((f) => isTokenTextFile(f.name) || /(^|\/)tokenizer_config\.json$/i.test(f.name));
}

/** The token text a drop carries (null: none in it). Throws a DataFileError naming a bad file. */
export async function tokenTextOfDrop(files: ByteSource[]): Promise<TokenText | null> {
  return tokenTextFromFiles(tokenTextFilesOf(files));
}

/** Whether a drop is only token text (it then gives text to the data already loaded). */
export function isTokenTextOnly(files: ByteSource[]): boolean {
  return files.length > 0 && tokenTextFilesOf(files).length === files.length;
}

/** The built-in dataset's vocabulary (ids 0 "<bos>", 1 "·" for no feature, then "f0", "f1", …). */
export function builtinTokenText(source: { vocabulary(): string[] }): TokenText {
  return { ...vocabularyTokenText(source.vocabulary(), 'synthetic vocabulary') };
}

/** Token text of the data a run was trained on (null: that data is not loaded in this page). */
export function tokenTextOfRun(runId: string): TokenText | null {
  const run = findRun(runId);
  const data = run ? getLoadedData(run.dataKey) : undefined;
  return data?.tokenText ?? null;
}

// ---- memory across reloads (IndexedDB; silently absent where there is none, e.g. Node) ----

interface Remembered {
  files: { name: string; bytes: Uint8Array }[];
}

function openDb(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  return new Promise((resolve) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
}

async function withStore<T>(
  mode: IDBTransactionMode,
  f: (s: IDBObjectStore) => IDBRequest<T>,
): Promise<T | null> {
  const db = await openDb();
  if (!db) return null;
  try {
    return await new Promise<T | null>((resolve) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result ?? null);
      tx.onerror = () => resolve(null);
      tx.onabort = () => resolve(null);
    });
  } finally {
    db.close();
  }
}

/** At most this many datasets' tokenizers, and this many bytes of them, are remembered. */
export const REMEMBER_MAX_ENTRIES = 8;
export const REMEMBER_MAX_BYTES = 128 << 20;
const INDEX_KEY = '__index__';

export interface RememberedEntry {
  identity: string;
  bytes: number;
  savedAt: number;
}

/** The index after saving `identity` (newest first), and the identities to forget to stay in bounds. */
export function pruneRemembered(
  index: RememberedEntry[],
  add: RememberedEntry,
  maxEntries = REMEMBER_MAX_ENTRIES,
  maxBytes = REMEMBER_MAX_BYTES,
): { index: RememberedEntry[]; evict: string[] } {
  const all = [add, ...index.filter((e) => e.identity !== add.identity)].sort(
    (a, b) => b.savedAt - a.savedAt,
  );
  const keep: RememberedEntry[] = [],
    evict: string[] = [];
  let bytes = 0;
  for (const e of all) {
    // The entry just saved is always kept (it is what the user dropped now).
    if (e === add || (keep.length < maxEntries && bytes + e.bytes <= maxBytes)) {
      keep.push(e);
      bytes += e.bytes;
    } else evict.push(e.identity);
  }
  return { index: keep, evict };
}

/** Keep the token text files of `identity` for the next visit (a failure only loses the memory). */
export async function rememberTokenText(identity: string, files: ByteSource[]): Promise<void> {
  const picked = tokenTextFilesOf(files);
  if (!picked.length) return;
  try {
    const value: Remembered = {
      files: await Promise.all(picked.map(async (f) => ({ name: f.name, bytes: await f.read(0, f.size) }))),
    };
    const stored = await withStore('readonly', (s) => s.get(INDEX_KEY) as IDBRequest<RememberedEntry[]>);
    const bytes = value.files.reduce((n, f) => n + f.bytes.length, 0);
    const { index, evict } = pruneRemembered(Array.isArray(stored) ? stored : [], {
      identity,
      bytes,
      savedAt: Date.now(),
    });
    await withStore('readwrite', (s) => {
      for (const id of evict) s.delete(id);
      s.put(index, INDEX_KEY);
      return s.put(value, identity);
    });
  } catch {
    // Storage full or unavailable: the text is only lost for the next visit.
  }
}

/** The token text remembered for `identity`, or null. A stored file that no longer parses is dropped. */
export async function recallTokenText(identity: string): Promise<TokenText | null> {
  const value = (await withStore(
    'readonly',
    (s) => s.get(identity) as IDBRequest<Remembered>,
  )) as Remembered | null;
  if (!value || !Array.isArray(value.files)) return null;
  try {
    const tt = await tokenTextFromFiles(value.files.map((f) => bytesByteSource(f.bytes, f.name)));
    return tt ? { ...withName(tt, `${tt.name} (remembered)`) } : null;
  } catch {
    await withStore('readwrite', (s) => s.delete(identity));
    return null;
  }
}

function withName(tt: TokenText, name: string): TokenText {
  return {
    name,
    kind: tt.kind,
    size: tt.size,
    text: (id) => tt.text(id),
    known: (id) => tt.known(id),
    special: (id) => tt.special(id),
  };
}
