// The hub fetch's decisions with fetch stubbed (no OPFS in Node: the files are held as Blobs, the
// browser path with its cache is test/e2e/lmHub.test.ts): ids checked, 404 and network failure named,
// the byte budget and sharded checkpoints refused from a HEAD before any GET of the weights, a body
// shorter than its Content-Length refused, progress reported in bytes of total.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkHubId,
  fetchHubFiles,
  hubEndpoint,
  parseHubRef,
  type HubProgress,
} from '../../src/app/hubFetch';

type Repo = Record<string, Uint8Array>;

/** A stub hub: `repos` by id; records each request as "METHOD file". */
function stubHub(repos: Record<string, Repo>, opts: { headSize?: number; short?: string } = {}) {
  const calls: string[] = [];
  vi.stubGlobal('fetch', async (url: string, init?: { method?: string }) => {
    const method = init?.method ?? 'GET';
    const m = /^https:\/\/huggingface\.co\/(.+)\/resolve\/main\/([^/]+)$/.exec(url);
    calls.push(`${method} ${m?.[2]}`);
    const body = m ? repos[m[1]]?.[m[2]] : undefined;
    if (!body) return new Response('Entry not found', { status: 404 });
    const size = method === 'HEAD' && opts.headSize !== undefined ? opts.headSize : body.length;
    const sent = m![2] === opts.short ? body.subarray(0, body.length - 1) : body;
    return new Response(method === 'HEAD' ? null : (sent as BodyInit), {
      status: 200,
      headers: { 'content-length': String(size) },
    });
  });
  return calls;
}

const bytes = (n: number) => new Uint8Array(n).fill(7);
const repo: Repo = {
  'config.json': bytes(10),
  'tokenizer.json': bytes(20),
  'model.safetensors': bytes(300),
};

afterEach(() => vi.unstubAllGlobals());

describe('hub fetch', () => {
  it('checks ids and uses the default endpoint', () => {
    expect(checkHubId(' HuggingFaceTB/SmolLM-135M ')).toBe('HuggingFaceTB/SmolLM-135M');
    expect(checkHubId('gpt2')).toBe('gpt2');
    for (const bad of ['', '../etc', 'a/b/c', 'a/../b', 'x y', '/gpt2'])
      expect(() => checkHubId(bad), bad).toThrow(/not a Hugging Face model id/);
    expect(hubEndpoint()).toBe('https://huggingface.co');
  });

  it('downloads the files with progress, skipping a missing tokenizer_config.json', async () => {
    const calls = stubHub({ gpt2: repo });
    const seen: HubProgress[] = [];
    const r = await fetchHubFiles('gpt2', (p) => seen.push(p));
    expect(r.cached).toBe(false);
    expect(r.files.map((f) => [f.path, f.file.size])).toEqual([
      ['gpt2/config.json', 10],
      ['gpt2/tokenizer.json', 20],
      ['gpt2/model.safetensors', 300],
    ]);
    expect(new Uint8Array(await r.files[2].file.arrayBuffer())).toEqual(repo['model.safetensors']);
    expect(seen.at(-1)).toEqual({ file: 'model.safetensors', loaded: 300, total: 300 });
    expect(calls).toEqual([
      'HEAD model.safetensors',
      'GET config.json',
      'GET tokenizer.json',
      'GET model.safetensors',
      'GET tokenizer_config.json',
    ]);
  });

  it('names a missing model and an unreachable hub', async () => {
    stubHub({});
    await expect(fetchHubFiles('org/nope', () => {})).rejects.toThrow('no model org/nope on the hub');
    // The hub answers 401 for a repo that does not exist or is gated.
    vi.stubGlobal('fetch', async () => new Response('Repository not found', { status: 401 }));
    await expect(fetchHubFiles('org/gated', () => {})).rejects.toThrow(
      'no model org/gated on the hub (or it is gated or private: download it and drop the files)',
    );
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(fetchHubFiles('gpt2', () => {})).rejects.toThrow(
      'the hub cannot be reached: drop the files instead',
    );
  });

  it('refuses over the budget and sharded checkpoints before downloading the weights', async () => {
    let calls = stubHub({ gpt2: repo }, { headSize: 5000 });
    await expect(fetchHubFiles('gpt2', () => {}, { maxBytes: 4096 })).rejects.toThrow(
      /model\.safetensors is 5000 bytes, more than the 4096 bytes .* not downloaded/,
    );
    expect(calls).toEqual(['HEAD model.safetensors']);
    calls = stubHub({
      big: { 'config.json': bytes(10), 'model.safetensors.index.json': bytes(5) },
    });
    await expect(fetchHubFiles('big', () => {})).rejects.toThrow(/sharded checkpoints .* not supported/);
    expect(calls.filter((c) => c.startsWith('GET'))).toEqual([]);
    stubHub({ pt: { 'config.json': bytes(10) } });
    await expect(fetchHubFiles('pt', () => {})).rejects.toThrow(/has no model\.safetensors/);
  });

  it('refuses a body shorter than its Content-Length', async () => {
    stubHub({ gpt2: repo }, { short: 'model.safetensors' });
    await expect(fetchHubFiles('gpt2', () => {})).rejects.toThrow(
      'model.safetensors: the hub sent 299 of 300 bytes',
    );
  });

  it('takes id@revision: the revision is checked and asked for in every URL (main when none is given)', async () => {
    expect(parseHubRef('gpt2')).toEqual({ id: 'gpt2', revision: 'main' });
    expect(parseHubRef(' org/m@refs/pr/1 ')).toEqual({ id: 'org/m', revision: 'refs/pr/1' });
    expect(parseHubRef('org/m@0123abcd')).toEqual({ id: 'org/m', revision: '0123abcd' });
    for (const bad of ['gpt2@', 'gpt2@../x', 'gpt2@a b', 'gpt2@/main', 'gpt2@a@b'])
      expect(() => parseHubRef(bad), bad).toThrow(/is not a revision/);
    expect(() => parseHubRef('a/b/c@main')).toThrow(/not a Hugging Face model id/);
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: string, init?: { method?: string }) => {
      urls.push(url);
      const body = repo[url.split('/').pop()!];
      if (!body) return new Response('Entry not found', { status: 404 });
      return new Response(init?.method === 'HEAD' ? null : (body as BodyInit), {
        headers: { 'content-length': String(body.length) },
      });
    });
    const r = await fetchHubFiles('org/m@refs/pr/1', () => {});
    expect(r.files.map((f) => f.path)).toEqual([
      'org/m/config.json',
      'org/m/tokenizer.json',
      'org/m/model.safetensors',
    ]);
    expect(new Set(urls.map((u) => u.slice(0, u.lastIndexOf('/'))))).toEqual(
      new Set(['https://huggingface.co/org/m/resolve/refs%2Fpr%2F1']),
    );
    // A revision the hub does not have: named with its revision.
    vi.stubGlobal('fetch', async () => new Response('Revision not found', { status: 404 }));
    await expect(fetchHubFiles('org/m@v9', () => {})).rejects.toThrow(/^no model org\/m@v9 on the hub$/);
  });
});
