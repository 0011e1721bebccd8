// A model fetched from the Hugging Face hub by name (issue 11), through the UI only: a local HTTP server
// serves a seeded random tiny GPT-2 HF folder at the hub's URL layout (/<id>/resolve/<revision>/<file>) and
// counts requests; the page is pointed at it through localStorage 'temposae.hubEndpoint' as a user of a
// mirror would. Type the id, Fetch, watch bytes of total, see the model summary, capture typed text and
// train a few steps; reload and fetch again: the summary comes back with no request to the server (the
// OPFS cache). A wrong id shows the 404 message, a sharded repo and a model over the byte budget are
// refused before any weights are downloaded, a repo whose weights do not load is not kept in the cache, and an endpoint with no server says the hub cannot be reached.
// The cache is keyed by id and revision (id@revision) and listed in the Storage panel with its sizes,
// where a cached model is deleted (the next fetch downloads it again).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomModel } from '../fixtures/lm/randomModel';
import { byteLevelBpe } from '../fixtures/lm/tokenizerJson';
import { hfFolderFiles } from '../fixtures/lm/writers';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

const T = 16;
const STEPS = 8;
const URL_CONFIG = `?d_sae=32&seqs_per_batch=4&training_tokens=${4 * T * STEPS}&metrics_every=4&eval_every=0&lr=0.01&seed=3`;
const ID = 'tiny-org/tiny-gpt2';
const TEXT = Array.from(
  { length: 40 },
  (_, i) => ['The world said hello to the cafe.', 'She had an end, and then she said hello again.'][i % 2],
).join(' ');

async function waitText(page: Page, testId: string, re: RegExp, timeout = 30_000) {
  await page.waitForFunction(
    ([id, src]) => new RegExp(src).test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
    [testId, re.source] as const,
    { timeout, polling: 50 },
  );
}

/** The file names in OPFS temposae-models/<id>/@<revision>/ (read only), or null when there is no such folder. */
async function cachedNames(page: Page, id: string, revision = 'main'): Promise<string[] | null> {
  return page.evaluate(
    async (parts) => {
      try {
        let d = await navigator.storage.getDirectory();
        for (const p of parts) d = await d.getDirectoryHandle(p);
        const names: string[] = [];
        for await (const k of (d as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(k);
        return names.sort();
      } catch {
        return null;
      }
    },
    ['temposae-models', ...id.split('/'), `@${revision}`],
  );
}

async function fetchId(page: Page, id: string) {
  await page.getByTestId('model-hub-id').fill(id);
  await page.getByTestId('model-hub-fetch').click();
}

describe('a model fetched from the hub by id', () => {
  let h: AppHarness;
  let w: WatchedPage;
  let server: Server;
  let endpoint = '';
  const requests: string[] = [];
  const tokJson = byteLevelBpe();
  const vocabSize = Object.keys((tokJson.model as { vocab: object }).vocab).length;
  const model = randomModel({ family: 'gpt2', seed: 52, vocab_size: vocabSize });
  const folder = hfFolderFiles(model, tokJson, { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' });
  const repos: Record<string, Record<string, Uint8Array>> = {
    [ID]: folder,
    'tiny-org/broken': {
      ...folder,
      'model.safetensors': folder['model.safetensors'].subarray(0, folder['model.safetensors'].length - 40),
    },
    'tiny-org/sharded': {
      'config.json': folder['config.json'],
      'model.safetensors.index.json': new TextEncoder().encode('{"weight_map":{}}'),
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Length, X-Linked-Size, X-Repo-Commit');
      const hit = /^\/(.+)\/resolve\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
      const m = hit && [hit[0], hit[1], hit[3]]; // [url, id, file]
      // Any revision serves the same files; the commit it resolves to names it.
      const commit = `c0ffee${decodeURIComponent(hit?.[2] ?? '')}`;
      // A model too large for the budget: its size is all a HEAD tells, and it is never downloaded.
      if (m && m[1] === 'tiny-org/huge' && m[2] === 'model.safetensors') {
        res.writeHead(200, { 'Content-Length': String(3 * 2 ** 30) });
        res.end();
        return;
      }
      const body = m ? repos[m[1]]?.[m[2]] : undefined;
      if (!body) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('Entry not found');
        return;
      }
      res.writeHead(200, {
        'Content-Length': String(body.length),
        'Content-Type': 'application/octet-stream',
        'X-Repo-Commit': commit,
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      // The weights in four parts a little apart, so the progress can be read.
      const parts = m![2] === 'model.safetensors' ? 4 : 1;
      const step = Math.ceil(body.length / parts);
      let i = 0;
      const next = () => {
        if (i >= body.length) return void res.end();
        res.write(body.subarray(i, i + step));
        i += step;
        setTimeout(next, 250);
      };
      next();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await startApp();
    w = await openPage(h, URL_CONFIG);
    await w.page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await w.page.evaluate(([k, v]) => localStorage.setItem(k, v), [
      'temposae.hubEndpoint',
      endpoint,
    ] as const);
  });
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('fetch by id, capture, train; a reload fetches from the cache; wrong ids are named', async () => {
    const { page } = w;
    await fetchId(page, ID);
    // Bytes of total while the weights arrive.
    await waitText(page, 'model-busy', /downloading model\.safetensors · .+ of .+/);
    const summary = page.getByTestId('model-summary');
    await summary.waitFor({ timeout: 30_000 });
    const said = (await summary.textContent())!;
    expect(said).toContain('tiny-gpt2');
    expect(said).toContain('GPT-2: LayerNorm, learned positions, GELU MLP');
    expect(said).toContain('2 blocks · d 16 · 4 heads');
    const got = requests.filter((r) => r.startsWith('GET')).map((r) => r.split('/').pop());
    expect(got.sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(await cachedNames(page, ID)).toEqual([
      'config.json',
      'model.safetensors',
      'revision.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    await screenshot(page, 'lmhub-fetched');

    // Capture typed text and train a few steps on it.
    await page.getByTestId('model-text').fill(TEXT);
    await page.getByTestId('model-context').fill(String(T));
    await page.getByTestId('model-capture').click();
    await waitText(page, 'data-summary', /tiny-gpt2 · blocks\.1\.hook_resid_pre/);
    await page.getByTestId('tab-train').click();
    await page.getByTestId('btn-primary').click();
    await page.waitForFunction(
      () => {
        const rs = (window.__temposae!.runs as () => { status: string }[])();
        return rs.length > 0 && rs[rs.length - 1].status === 'done';
      },
      undefined,
      { timeout: 60_000, polling: 250 },
    );

    // A reload: the same id comes from the browser's cache, no request reaches the server.
    await page.reload();
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    const before = requests.length;
    await fetchId(page, ID);
    await waitText(page, 'model-summary', /tiny-gpt2/);
    expect((await summary.textContent())!).toBe(said);
    expect(requests.slice(before)).toEqual([]);
    await screenshot(page, 'lmhub-cached');

    // Named errors; the model loaded stays.
    await fetchId(page, 'tiny-org/nope');
    await waitText(page, 'model-error', /no model tiny-org\/nope on the hub.*tiny-gpt2 is still loaded/);
    await screenshot(page, 'lmhub-404');
    await fetchId(page, 'tiny-org/sharded');
    await waitText(page, 'model-error', /sharded checkpoints .* not supported/);
    await fetchId(page, 'tiny-org/huge');
    await waitText(
      page,
      'model-error',
      /model\.safetensors is 3221225472 bytes, more than .* not downloaded/,
    );
    expect(
      requests.filter(
        (r) => r.startsWith('GET /tiny-org/huge') || r.startsWith('GET /tiny-org/sharded/model'),
      ),
    ).toEqual([]);
    // A repo whose weights do not load: the loader's message, and no cached copy kept (fetched again).
    for (let k = 0; k < 2; k++) {
      const n = requests.length;
      await fetchId(page, 'tiny-org/broken');
      await expect
        .poll(() => requests.slice(n).filter((r) => r.startsWith('GET')).length, { timeout: 15_000 })
        .toBe(4);
      await waitText(page, 'model-error', /model\.safetensors.*tiny-gpt2 is still loaded/);
      await expect.poll(() => cachedNames(page, 'tiny-org/broken'), { timeout: 15_000 }).toBeNull();
    }
    // No hub at the endpoint (offline, or a mirror that is down).
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    await page.evaluate((u) => localStorage.setItem('temposae.hubEndpoint', u), `http://127.0.0.1:${port}`);
    await fetchId(page, 'tiny-org/elsewhere');
    await waitText(page, 'model-error', /the hub cannot be reached: drop the files instead/);
    expect(await summary.textContent()).toBe(said);
    w.assertNoErrors([/Failed to load resource.*(404|ERR_CONNECTION_REFUSED)/]);
  });

  it('the cache is keyed by id and revision, listed in the Storage panel with sizes, and deleted there', async () => {
    const { page } = w;
    await page.evaluate((u) => localStorage.setItem('temposae.hubEndpoint', u), endpoint);
    await page.getByTestId('tab-train').click();
    const rows = page.getByTestId('hub-model-row');
    const listed = async () =>
      rows.evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-key'), Number(e.getAttribute('data-bytes'))]),
      );
    const folderBytes = Object.values(folder).reduce((a, b) => a + b.length, 0);
    await expect.poll(listed, { timeout: 15_000 }).toHaveLength(1);
    const [[key, bytes]] = await listed();
    expect(key).toBe(`${ID}@main`);
    // The files of the folder plus revision.json (a few dozen bytes).
    expect(bytes as number).toBeGreaterThan(folderBytes);
    expect(bytes as number).toBeLessThan(folderBytes + 300);
    expect(await rows.first().textContent()).toMatch(
      /tiny-org\/tiny-gpt2 @ main · commit c0ffeemain · 5 files · /,
    );

    // Another revision is fetched from the network and kept beside the first.
    let n = requests.length;
    await fetchId(page, `${ID}@v1`);
    const gets = () => requests.slice(n).filter((r) => r.startsWith('GET'));
    await expect.poll(() => gets().length, { timeout: 15_000 }).toBe(4);
    expect(gets().map((r) => r.split(' ')[1].split('/')[4])).toEqual(['v1', 'v1', 'v1', 'v1']);
    await expect.poll(() => page.getByTestId('model-busy').count(), { timeout: 15_000 }).toBe(0);
    await expect
      .poll(async () => (await listed()).map((e) => e[0]), { timeout: 15_000 })
      .toEqual([`${ID}@main`, `${ID}@v1`]);
    expect(await page.getByTestId('hub-models').textContent()).toMatch(/Models from the hub · /);
    await page.getByTestId('hub-models').scrollIntoViewIfNeeded();
    await screenshot(page, 'lmhub-storage');

    // Deleted in the panel: the row goes, the folder goes, and the next fetch of it downloads again.
    await page.getByRole('button', { name: `Delete the cached model ${ID}@v1` }).click();
    await expect
      .poll(async () => (await listed()).map((e) => e[0]), { timeout: 15_000 })
      .toEqual([`${ID}@main`]);
    expect(await cachedNames(page, ID, 'v1')).toBeNull();
    expect(await cachedNames(page, ID)).not.toBeNull();
    n = requests.length;
    await fetchId(page, `${ID}@v1`);
    await expect
      .poll(() => requests.slice(n).filter((r) => r.startsWith('GET')).length, { timeout: 15_000 })
      .toBe(4);
    // main is still cached: no request.
    n = requests.length;
    await fetchId(page, ID);
    await page.waitForTimeout(300);
    await expect.poll(() => page.getByTestId('model-busy').count(), { timeout: 15_000 }).toBe(0);
    expect(requests.slice(n)).toEqual([]);

    // A copy left by an earlier version of the app (files straight in temposae-models/<id>/, no revision
    // kept): listed as such after a reload, and deleted like the others (the revisions beside it stay).
    await page.evaluate(
      async (files) => {
        let d = await navigator.storage.getDirectory();
        for (const p of ['temposae-models', 'tiny-org', 'legacy'])
          d = await d.getDirectoryHandle(p, { create: true });
        for (const [name, bytes] of files) {
          const wr = await (await d.getFileHandle(name, { create: true })).createWritable();
          await wr.write(new Uint8Array(bytes));
          await wr.close();
        }
      },
      [
        ['config.json', [...folder['config.json']]],
        ['model.safetensors', [1, 2, 3, 4]],
      ] as [string, number[]][],
    );
    await page.reload();
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await expect
      .poll(async () => (await listed()).map((e) => e[0]), { timeout: 15_000 })
      .toEqual(['tiny-org/legacy', `${ID}@main`, `${ID}@v1`]);
    expect(await rows.first().textContent()).toMatch(
      /tiny-org\/legacy \(revision not recorded\) · 2 files · /,
    );
    await page.getByRole('button', { name: 'Delete the cached model tiny-org/legacy' }).click();
    await expect
      .poll(async () => (await listed()).map((e) => e[0]), { timeout: 15_000 })
      .toEqual([`${ID}@main`, `${ID}@v1`]);
    // Its folder went with its files.
    const legacyLeft = await page.evaluate(async () => {
      const models = await (await navigator.storage.getDirectory()).getDirectoryHandle('temposae-models');
      const org = await models.getDirectoryHandle('tiny-org');
      return org.getDirectoryHandle('legacy').then(
        () => true,
        () => false,
      );
    });
    expect(legacyLeft).toBe(false);
    w.assertNoErrors([/Failed to load resource.*(404|ERR_CONNECTION_REFUSED)/]);
  });
});
