// A model fetched from the Hugging Face hub by name (issue 11): config.json, tokenizer.json,
// tokenizer_config.json (when the repo has one) and model.safetensors from
// `${endpoint}/${id}/resolve/${revision}/${file}`, cached in OPFS under
// temposae-models/<id>/@<revision>/ so a second fetch of the same id and revision, or a reload, reads
// the cache and asks the network nothing. A revision is asked for as `id@revision` (a branch, tag or
// commit; `main` when none is given); the commit the hub resolved it to (X-Repo-Commit) is kept beside
// the files in revision.json. The Storage panel lists the cached models with their sizes and deletes
// them (hubCacheEntries, forgetHubModel). The weights' size is asked first (HEAD) and refused over the
// model byte budget before any byte is downloaded; sharded checkpoints are refused as the loaders
// refuse them. The files come back as picked files: the model panel loads them exactly as dropped
// ones. The endpoint is https://huggingface.co unless localStorage 'temposae.hubEndpoint' names a
// mirror (tests point it at a local server).
import { DEFAULT_MODEL_BYTE_BUDGET } from '../lm/load';
import type { PickedFile } from './dataSession';

export const HUB_ENDPOINT_KEY = 'temposae.hubEndpoint';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
const CACHE_ROOT = 'temposae-models';

/** Files fetched, in order; tokenizer_config.json is optional (a 404 skips it). */
const REQUIRED = ['config.json', 'tokenizer.json', 'model.safetensors'] as const;
const OPTIONAL = ['tokenizer_config.json'] as const;

export function hubEndpoint(): string {
  let v: string | null = null;
  try {
    v = localStorage.getItem(HUB_ENDPOINT_KEY);
  } catch {
    // No localStorage: the default hub.
  }
  return (v?.trim() || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

/** A hub repo id: `name` or `owner/name` of letters, digits, `-`, `_`, `.` (no `..`). */
export function checkHubId(raw: string): string {
  const id = raw.trim();
  if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(id) || id.includes('..'))
    throw new Error(
      `"${raw}" is not a Hugging Face model id (name or owner/name, e.g. gpt2 or HuggingFaceTB/SmolLM-135M)`,
    );
  return id;
}

/** A model id and the revision asked for. */
export interface HubRef {
  id: string;
  revision: string;
}

export const DEFAULT_HUB_REVISION = 'main';

/**
 * `id` or `id@revision` (a branch, tag or commit: letters, digits, `-`, `_`, `.`, segments joined by
 * `/` as in refs/pr/1; no `..`); the revision is `main` when none is given.
 */
export function parseHubRef(raw: string): HubRef {
  const text = raw.trim();
  const at = text.indexOf('@');
  const id = checkHubId(at < 0 ? text : text.slice(0, at));
  const revision = at < 0 ? DEFAULT_HUB_REVISION : text.slice(at + 1).trim();
  if (
    !/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)*$/.test(revision) ||
    revision.includes('..') ||
    revision.length > 100
  )
    throw new Error(
      `"${raw}": "${revision}" is not a revision (a branch, tag or commit after @, e.g. gpt2@main)`,
    );
  return { id, revision };
}

/** The folder of one cached revision (a revision may hold `/`, a folder name may not). */
const revisionFolder = (revision: string) => `@${encodeURIComponent(revision)}`;

/** What is kept beside a cached revision's files. */
const REVISION_FILE = 'revision.json';

export interface HubProgress {
  file: string;
  loaded: number;
  /** Total bytes when the server says (Content-Length), else null. */
  total: number | null;
}

/** 404, or 401/403 (the hub's answer for a repo that does not exist, or is gated or private). */
class NotFound extends Error {
  constructor(
    url: string,
    readonly status: number,
  ) {
    super(url);
  }
}

const noModel = (id: string, e: NotFound) =>
  new Error(
    `no model ${id} on the hub${e.status === 404 ? '' : ` (or it is gated or private: download it and drop the files)`}`,
  );

const unreachable = () => new Error('the hub cannot be reached: drop the files instead');

async function request(url: string, method: 'GET' | 'HEAD'): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url, { method, cache: 'no-store' });
  } catch {
    throw unreachable();
  }
  if (r.status === 404 || r.status === 401 || r.status === 403) throw new NotFound(url, r.status);
  if (!r.ok) throw new Error(`the hub answered ${r.status} ${r.statusText} for ${url}`);
  return r;
}

/** The folder of `parts` under temposae-models (made when `create`), or null where OPFS is unavailable / absent. */
async function modelsDir(parts: string[], create: boolean): Promise<FileSystemDirectoryHandle | null> {
  try {
    let d = await navigator.storage.getDirectory();
    for (const part of [CACHE_ROOT, ...parts]) d = await d.getDirectoryHandle(part, { create });
    return d;
  } catch {
    return null;
  }
}

/** The folder of one model revision in OPFS (made when `create`), or null. */
const cacheDir = (ref: HubRef, create: boolean) =>
  modelsDir([...ref.id.split('/'), revisionFolder(ref.revision)], create);

async function cachedFile(dir: FileSystemDirectoryHandle, name: string): Promise<File | null> {
  try {
    const f = await (await dir.getFileHandle(name)).getFile();
    return f.size > 0 ? f : null;
  } catch {
    return null;
  }
}

/** The cached files of `ref`, or null unless every required file is there. */
async function fromCache(ref: HubRef): Promise<PickedFile[] | null> {
  const { id } = ref;
  const dir = await cacheDir(ref, false);
  if (!dir) return null;
  const out: PickedFile[] = [];
  for (const name of [...REQUIRED, ...OPTIONAL]) {
    const f = await cachedFile(dir, name);
    if (!f && (REQUIRED as readonly string[]).includes(name)) return null;
    if (f) out.push({ file: f, path: `${id}/${name}` });
  }
  return out;
}

/**
 * Download one file's body, streaming it into the cache (the cached file appears only when complete:
 * a writable replaces the file on close) or into Blob parts where OPFS is unavailable.
 */
async function download(
  r: Response,
  name: string,
  dir: FileSystemDirectoryHandle | null,
  onProgress: (p: HubProgress) => void,
): Promise<Blob & { name: string }> {
  const len = Number(r.headers.get('content-length'));
  const total = Number.isFinite(len) && len > 0 ? len : null;
  const writable = dir ? await (await dir.getFileHandle(name, { create: true })).createWritable() : null;
  const parts: Uint8Array[] = [];
  let loaded = 0;
  try {
    const reader = r.body?.getReader();
    if (!reader) throw new Error(`the hub sent no body for ${name}`);
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        throw unreachable();
      }
      if (chunk.done) break;
      loaded += chunk.value.length;
      if (writable) await writable.write(chunk.value as BufferSource);
      else parts.push(chunk.value);
      onProgress({ file: name, loaded, total });
    }
    if (total !== null && loaded !== total)
      throw new Error(`${name}: the hub sent ${loaded} of ${total} bytes`);
    if (writable) await writable.close();
  } catch (e) {
    await writable?.abort().catch(() => {});
    throw e;
  }
  if (dir) {
    const f = await cachedFile(dir, name);
    if (!f) throw new Error(`${name} was downloaded but cannot be read back from browser storage`);
    return f;
  }
  return new File(parts as BlobPart[], name);
}

/** Listeners told when the cache changed (a download kept, a model forgotten): the Storage panel. */
const cacheListeners = new Set<() => void>();

export function onHubCacheChange(listener: () => void): () => void {
  cacheListeners.add(listener);
  return () => cacheListeners.delete(listener);
}

const cacheChanged = () => cacheListeners.forEach((l) => l());

/**
 * Remove the cached copy of `id@revision` (files that do not load are fetched again next time), and the
 * model's folder once no revision is left in it. An `id` alone is its `main`.
 */
export async function forgetHubModel(rawRef: string): Promise<void> {
  const ref = parseHubRef(rawRef);
  const parts = ref.id.split('/');
  const modelDir = await modelsDir(parts, false);
  await modelDir?.removeEntry(revisionFolder(ref.revision), { recursive: true }).catch(() => {});
  await pruneEmpty(parts);
  cacheChanged();
}

/** Remove the folders of `parts` (the model's, then its owner's) that are left empty. */
async function pruneEmpty(parts: string[]): Promise<void> {
  for (let k = parts.length; k > 0; k--) {
    const dir = await modelsDir(parts.slice(0, k), false);
    if (!dir) continue;
    if ((await entriesOf(dir)).length) break;
    await (await modelsDir(parts.slice(0, k - 1), false))?.removeEntry(parts[k - 1]).catch(() => {});
  }
}

/** Remove a cached model of the older layout (files straight in temposae-models/<id>/, no revision). */
async function forgetUnversioned(id: string): Promise<void> {
  const dir = await modelsDir(id.split('/'), false);
  if (!dir) return;
  for (const [name, h] of await entriesOf(dir))
    if (h.kind === 'file') await dir.removeEntry(name).catch(() => {});
  await pruneEmpty(id.split('/'));
}

type Entry = [string, FileSystemHandle];
async function entriesOf(dir: FileSystemDirectoryHandle): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of (dir as unknown as { entries(): AsyncIterable<Entry> }).entries()) out.push(e);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One cached model revision, as the Storage panel lists it. */
export interface HubCacheEntry {
  id: string;
  /** The revision asked for; null for a copy cached before revisions were kept (then `main`). */
  revision: string | null;
  /** The commit the hub resolved the revision to (X-Repo-Commit), when it said. */
  commit: string | null;
  bytes: number;
  files: number;
  /** `id@revision` (or `id` for the older layout): unique, and what fetching it again takes. */
  key: string;
}

async function filesSize(dir: FileSystemDirectoryHandle): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const [, h] of await entriesOf(dir)) {
    if (h.kind !== 'file') continue;
    const size = await (h as FileSystemFileHandle)
      .getFile()
      .then((f) => f.size)
      .catch(() => null); // removed meanwhile
    if (size === null) continue;
    bytes += size;
    files++;
  }
  return { bytes, files };
}

/** Every model revision in the cache with its size (an empty list where OPFS is unavailable). */
export async function hubCacheEntries(): Promise<HubCacheEntry[]> {
  const root = await modelsDir([], false);
  if (!root) return [];
  const out: HubCacheEntry[] = [];
  // A model folder holds @<revision> folders (and files, in the older layout); an owner's folder holds
  // model folders.
  const visit = async (dir: FileSystemDirectoryHandle, id: string, depth: number) => {
    const entries = await entriesOf(dir).catch(() => [] as Entry[]);
    const revisions = entries.filter(([n, h]) => h.kind === 'directory' && n.startsWith('@'));
    const looseFiles = entries.some(([, h]) => h.kind === 'file');
    for (const [name, h] of revisions) {
      const revision = decodeURIComponent(name.slice(1));
      const rdir = h as FileSystemDirectoryHandle;
      const size = await filesSize(rdir);
      let commit: string | null = null;
      try {
        const meta = JSON.parse(await (await (await rdir.getFileHandle(REVISION_FILE)).getFile()).text());
        commit = typeof meta.commit === 'string' ? meta.commit : null;
      } catch {
        // No revision.json (or not JSON): the commit is unknown.
      }
      out.push({ id, revision, commit, ...size, key: `${id}@${revision}` });
    }
    if (looseFiles) out.push({ id, revision: null, commit: null, ...(await filesSize(dir)), key: id });
    if (depth === 0 && !revisions.length)
      for (const [name, h] of entries)
        if (h.kind === 'directory') await visit(h as FileSystemDirectoryHandle, `${id}/${name}`, 1);
  };
  for (const [name, h] of await entriesOf(root).catch(() => [] as Entry[]))
    if (h.kind === 'directory') await visit(h as FileSystemDirectoryHandle, name, 0);
  return out.filter((e) => e.files > 0).sort((a, b) => a.key.localeCompare(b.key));
}

/** Delete one cached entry of hubCacheEntries (its `key`). */
export async function forgetHubEntry(e: HubCacheEntry): Promise<void> {
  if (e.revision === null) {
    await forgetUnversioned(e.id);
    cacheChanged();
  } else await forgetHubModel(e.key);
}

export interface HubFetchResult {
  files: PickedFile[];
  /** True when every file came from the browser's cache (no network). */
  cached: boolean;
}

/**
 * Fetch model `id` from the hub (or the cache). Errors are named: 404 → "no model <id> on the hub",
 * a network failure → "the hub cannot be reached: drop the files instead", a sharded checkpoint and a
 * model over the byte budget are refused before the weights are downloaded.
 */
export async function fetchHubFiles(
  rawId: string,
  onProgress: (p: HubProgress) => void,
  opts: { maxBytes?: number } = {},
): Promise<HubFetchResult> {
  const ref = parseHubRef(rawId);
  const { id } = ref;
  // How messages name it: the id, with its revision when that is not main.
  const named = ref.revision === DEFAULT_HUB_REVISION ? id : `${id}@${ref.revision}`;
  const hit = await fromCache(ref);
  if (hit) return { files: hit, cached: true };
  const base = `${hubEndpoint()}/${id}/resolve/${encodeURIComponent(ref.revision)}/`;
  const url = (f: string) => base + f;
  const budget = opts.maxBytes ?? DEFAULT_MODEL_BYTE_BUDGET;
  // The weights' size first: refused (or found sharded, or missing) before anything is downloaded.
  let weightBytes: number | null = null;
  try {
    const head = await request(url('model.safetensors'), 'HEAD');
    const n = Number(head.headers.get('x-linked-size') ?? head.headers.get('content-length'));
    weightBytes = Number.isFinite(n) && n > 0 ? n : null;
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
    const sharded = await request(url('model.safetensors.index.json'), 'HEAD').then(
      () => true,
      (err) => {
        if (err instanceof NotFound) return false;
        throw err;
      },
    );
    if (sharded)
      throw new Error(
        `${id} is a sharded checkpoint (model.safetensors.index.json): sharded checkpoints (model-0000x-of-0000y.safetensors) are not supported yet`,
      );
    // No weights file: is there a model at all?
    await request(url('config.json'), 'HEAD').catch((err) => {
      throw err instanceof NotFound ? noModel(named, err) : err;
    });
    throw new Error(`${id} on the hub has no model.safetensors (pytorch_model.bin is never opened)`);
  }
  if (weightBytes !== null && weightBytes > budget)
    throw new Error(
      `${id}: model.safetensors is ${weightBytes} bytes, more than the ${budget} bytes (${(budget / 2 ** 20).toFixed(1)} MiB) allowed; not downloaded`,
    );
  const dir = await cacheDir(ref, true);
  const files: PickedFile[] = [];
  let commit: string | null = null;
  for (const name of [...REQUIRED, ...OPTIONAL]) {
    let r: Response;
    try {
      r = await request(url(name), 'GET');
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      if ((OPTIONAL as readonly string[]).includes(name)) continue;
      throw name === 'config.json' ? noModel(named, e) : new Error(`${named} on the hub has no ${name}`);
    }
    commit ??= r.headers.get('x-repo-commit');
    files.push({ file: await download(r, name, dir, onProgress), path: `${id}/${name}` });
  }
  if (dir) {
    const meta = { id, revision: ref.revision, commit, fetched_at: new Date().toISOString() };
    const w = await (await dir.getFileHandle(REVISION_FILE, { create: true })).createWritable();
    await w.write(JSON.stringify(meta));
    await w.close();
    cacheChanged();
  }
  return { files, cached: false };
}
