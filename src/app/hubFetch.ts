// A model fetched from the Hugging Face hub by name (issue 11): config.json, tokenizer.json,
// tokenizer_config.json (when the repo has one) and model.safetensors from
// `${endpoint}/${id}/resolve/main/${file}`, cached in OPFS under temposae-models/<id>/ so a second fetch
// or a reload reads the cache and asks the network nothing. The weights' size is asked first (HEAD) and
// refused over the model byte budget before any byte is downloaded; sharded checkpoints are refused as
// the loaders refuse them. The files come back as picked files: the model panel loads them exactly as
// dropped ones. The endpoint is https://huggingface.co unless localStorage 'temposae.hubEndpoint' names a
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

/** The model's folder in OPFS (made when `create`), or null where OPFS is unavailable / absent. */
async function cacheDir(id: string, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  try {
    let d = await navigator.storage.getDirectory();
    for (const part of [CACHE_ROOT, ...id.split('/').filter(Boolean)])
      d = await d.getDirectoryHandle(part, { create });
    return d;
  } catch {
    return null;
  }
}

async function cachedFile(dir: FileSystemDirectoryHandle, name: string): Promise<File | null> {
  try {
    const f = await (await dir.getFileHandle(name)).getFile();
    return f.size > 0 ? f : null;
  } catch {
    return null;
  }
}

/** The cached files of `id`, or null unless every required file is there. */
async function fromCache(id: string): Promise<PickedFile[] | null> {
  const dir = await cacheDir(id, false);
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

/** Remove the cached copy of `id` (files that do not load are fetched again next time). */
export async function forgetHubModel(rawId: string): Promise<void> {
  const parts = checkHubId(rawId).split('/');
  const last = parts.pop()!;
  const parent = await cacheDir(parts.join('/'), false).catch(() => null);
  // cacheDir('') is temposae-models itself.
  await parent?.removeEntry(last, { recursive: true }).catch(() => {});
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
  const id = checkHubId(rawId);
  const hit = await fromCache(id);
  if (hit) return { files: hit, cached: true };
  const base = `${hubEndpoint()}/${id}/resolve/main/`;
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
      throw err instanceof NotFound ? noModel(id, err) : err;
    });
    throw new Error(`${id} on the hub has no model.safetensors (pytorch_model.bin is never opened)`);
  }
  if (weightBytes !== null && weightBytes > budget)
    throw new Error(
      `${id}: model.safetensors is ${weightBytes} bytes, more than the ${budget} bytes (${(budget / 2 ** 20).toFixed(1)} MiB) allowed; not downloaded`,
    );
  const dir = await cacheDir(id, true);
  const files: PickedFile[] = [];
  for (const name of [...REQUIRED, ...OPTIONAL]) {
    let r: Response;
    try {
      r = await request(url(name), 'GET');
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      if ((OPTIONAL as readonly string[]).includes(name)) continue;
      throw name === 'config.json' ? noModel(id, e) : new Error(`${id} on the hub has no ${name}`);
    }
    files.push({ file: await download(r, name, dir, onProgress), path: `${id}/${name}` });
  }
  return { files, cached: false };
}
