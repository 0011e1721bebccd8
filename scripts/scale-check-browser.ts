// Scale check in the browser (issue 13; a benchmark script, not CI): the app, built and served as the e2e
// harness does, in headless Chromium (WebGPU on SwiftShader), driven as a user drives it: a d-wide
// activation .npy dropped on the page's file input, d_sae and a small batch typed into the config form,
// Start, Pause (which writes a checkpoint: the engine's worker streams it to OPFS one tensor at a time),
// reload, Step (restores the run from the checkpoint and takes one step), Export SAE (.zip). The JS heap of
// the page and of the engine's dedicated worker is sampled over CDP every ~50 ms (Runtime.getHeapUsage on
// each target; usedSize is V8's heap, backingStorageSize the ArrayBuffer stores it holds), and the
// machine's available memory with it (SwiftShader's GPU memory is this machine's RAM). Prints one JSON line:
// sizes, timings, and for each phase the peak of each target's heap above its level just before the phase.
//
//   node scripts/run-ts.mjs scripts/scale-check-browser.ts [--d 2304] [--d-sae 65536] [--seqs 4]
//        [--seq-len 16] [--batch-seqs 1] [--no-build] [--min-free-gb 2] [--wait-s 3600]
// (builds into dist-s/ unless --no-build; E2E_DIST=dist-s is set for the harness.)
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { encodeNpy } from '../src/data/npyWrite';

const DIST = process.env.E2E_DIST ?? 'dist-s';

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}
const mb = (b: number) => Math.round(b / 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A float32 .npy of shape [S, T, d], values from a simple formula. */
function npyBytes(S: number, T: number, d: number): Buffer {
  const data = new Float32Array(S * T * d).map((_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 0.011));
  return Buffer.from(encodeNpy(data, [S, T, d], '<f4'));
}

function memAvailable(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface Sample {
  t: number;
  target: 'page' | 'worker';
  used: number;
  backing: number;
}

/**
 * A raw CDP connection to the browser (flat sessions): auto-attaches to the page and, through it, to its
 * dedicated workers, and samples Runtime.getHeapUsage on each every `everyMs`.
 */
async function heapSampler(port: number, everyMs: number) {
  const require = createRequire(import.meta.url);
  const WS = require('playwright-core/lib/utilsBundle').ws as new (url: string) => {
    on(ev: string, f: (d: unknown) => void): void;
    send(s: string): void;
    close(): void;
  };
  const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()) as {
    webSocketDebuggerUrl: string;
  };
  const ws = new WS(version.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', (e) => reject(e as Error));
  });
  let id = 0;
  const pending = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  const sessions = new Map<string, 'page' | 'worker'>();
  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<{ result?: unknown; error?: unknown }>((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as {
      id?: number;
      method?: string;
      params?: { sessionId: string; targetInfo?: { type: string } };
      result?: unknown;
      error?: unknown;
    };
    if (msg.id !== undefined) {
      pending.get(msg.id)?.(msg);
      pending.delete(msg.id);
      return;
    }
    if (msg.method === 'Target.attachedToTarget' && msg.params) {
      const type = msg.params.targetInfo?.type;
      const sid = msg.params.sessionId;
      if (type === 'page') {
        sessions.set(sid, 'page');
        // Through the page: its dedicated workers (the engine), existing and future ones.
        void send(
          'Target.setAutoAttach',
          { autoAttach: true, waitForDebuggerOnStart: false, flatten: true },
          sid,
        );
      } else if (type === 'worker') {
        sessions.set(sid, 'worker');
      }
    } else if (msg.method === 'Target.detachedFromTarget' && msg.params) {
      sessions.delete(msg.params.sessionId);
    }
  });
  await send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
  const samples: Sample[] = [];
  const t0 = performance.now();
  let minAvail = memAvailable();
  let stop = false;
  let busy = false;
  const timer = setInterval(() => {
    minAvail = Math.min(minAvail, memAvailable());
    if (busy || stop) return;
    busy = true;
    const t = performance.now() - t0;
    void Promise.all(
      [...sessions].map(async ([sid, target]) => {
        const r = await send('Runtime.getHeapUsage', {}, sid);
        const u = r.result as { usedSize: number; backingStorageSize?: number } | undefined;
        if (u) samples.push({ t, target, used: u.usedSize, backing: u.backingStorageSize ?? 0 });
      }),
    ).finally(() => (busy = false));
  }, everyMs);
  return {
    now: () => performance.now() - t0,
    samples,
    workers: () => [...sessions.values()].filter((s) => s === 'worker').length,
    minAvailable: () => minAvail,
    close() {
      stop = true;
      clearInterval(timer);
      ws.close();
    },
  };
}

type Sampler = Awaited<ReturnType<typeof heapSampler>>;

/** Peak of each target's heap (used + ArrayBuffer stores) in [a, b] above its median in the `before` ms before a. */
function phase(s: Sampler, a: number, b: number, before = 1500) {
  const out: Record<string, unknown> = { seconds: +((b - a) / 1000).toFixed(1) };
  for (const target of ['page', 'worker'] as const) {
    const of = s.samples.filter((x) => x.target === target);
    const tot = (x: Sample) => x.used + x.backing;
    const pre = of
      .filter((x) => x.t >= a - before && x.t < a)
      .map(tot)
      .sort((p, q) => p - q);
    const inside = of.filter((x) => x.t >= a && x.t <= b);
    if (!pre.length || !inside.length) {
      out[target] = { samples: inside.length, note: 'no samples before or during the phase' };
      continue;
    }
    const base = pre[pre.length >> 1];
    const peak = inside.reduce((m, x) => (tot(x) > tot(m) ? x : m));
    out[target] = {
      before_mb: mb(base),
      peak_extra_mb: mb(tot(peak) - base),
      peak_used_mb: mb(peak.used),
      peak_backing_mb: mb(peak.backing),
      samples: inside.length,
    };
  }
  return out;
}

const runsOf = (page: Page) =>
  page.evaluate(() =>
    (
      window.__temposae!.runs as () => {
        id: string;
        status: string;
        progress: { step: number };
        history: { step: number[] };
      }[]
    )().map((r) => ({
      id: r.id,
      status: r.status,
      step: r.progress.step,
      logged: r.history.step.at(-1) ?? 0,
    })),
  );

async function waitFor<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  guard: () => void,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    guard();
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(200);
  }
}

export async function main(argv: string[]): Promise<number> {
  const d = arg(argv, 'd', 2304);
  const dSae = arg(argv, 'd-sae', 65536);
  const seqs = arg(argv, 'seqs', 4);
  const seqLen = arg(argv, 'seq-len', 16);
  const batchSeqs = arg(argv, 'batch-seqs', 1);
  const minFree = arg(argv, 'min-free-gb', 2) * 2 ** 30;
  const waitMs = arg(argv, 'wait-s', 3600) * 1000;
  const port = 9300 + Math.floor(Math.random() * 500);
  process.env.E2E_DIST = DIST;
  if (!argv.includes('--no-build')) {
    const b = spawnSync('npx', ['vite', 'build', '--outDir', DIST, '--logLevel', 'error'], {
      stdio: 'inherit',
    });
    if (b.status !== 0) throw new Error('vite build failed');
  }
  const { startApp, openPage, screenshot } = await import('../test/e2e/harness');
  // --profile DIR: a persistent profile, storage on disk (the default context keeps OPFS in memory).
  const pi = argv.indexOf('--profile');
  const userDataDir = pi >= 0 ? argv[pi + 1] : undefined;
  const h = await startApp({ args: [`--remote-debugging-port=${port}`], userDataDir });
  const s = await heapSampler(port, 50);
  const marks: Record<string, number> = {};
  const mark = (k: string) => {
    marks[k] = s.now();
    console.error(`scale-check-browser: ${k} at ${(marks[k] / 1000).toFixed(1)} s`);
  };
  const guard = () => {
    const a = memAvailable();
    if (a < minFree) throw new Error(`machine memory nearly exhausted (${mb(a)} MB available): stopped`);
  };
  const result: Record<string, unknown> = {
    d,
    d_sae: dSae,
    tensor_mb: mb(4 * d * dSae),
    state_mb: mb(3 * (2 * 4 * d * dSae + 4 * (d + dSae))),
    data: { seqs, seq_len: seqLen, batch_seqs: batchSeqs },
  };
  const errors: string[] = [];
  let code = 0;
  try {
    const w = await openPage(h);
    const { page } = w;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text().slice(0, 300));
    });
    await page.getByTestId('selftest').waitFor({ timeout: 120_000 });
    await page.getByTestId('data-summary').waitFor();
    await page.getByTestId('file-input').setInputFiles({
      name: 'acts.npy',
      mimeType: 'application/octet-stream',
      buffer: npyBytes(seqs, seqLen, d),
    });
    await page.waitForFunction(
      () => document.querySelector('[data-testid=data-summary]')?.textContent?.includes('acts.npy'),
      null,
      { timeout: 60_000 },
    );
    await page.getByTestId('tab-train').click();
    const set = async (key: string, v: string) => {
      const f = page.getByTestId(`cfg-${key}`);
      await f.fill(v);
      await f.press('Enter');
    };
    // The bookkeeping fields (metrics_every, eval_every, checkpoint_every) are behind this link.
    await page.getByRole('button', { name: /Show data handling and bookkeeping/ }).click();
    await page.getByTestId('cfg-architecture').selectOption('relu');
    await set('d_sae', String(dSae));
    await set('seqs_per_batch', String(batchSeqs));
    await set('context_size', String(seqLen));
    await set('training_tokens', String(1000 * batchSeqs * seqLen));
    await set('metrics_every', '1');
    // No evaluation and no scheduled checkpoint in the few steps taken: the Pause writes the checkpoint.
    await set('eval_every', '1000');
    await set('checkpoint_every', '1000');
    const problems = await page
      .getByTestId('config-problems')
      .textContent()
      .catch(() => '');
    if (
      await page
        .getByTestId('btn-primary')
        .getAttribute('aria-disabled')
        .then((x) => x === 'true')
    )
      throw new Error(`Start is disabled: ${problems}`);
    await screenshot(page, 'scale-browser-config');
    await sleep(1500);
    // Allocate and step: Start, then Pause while the first step runs (a pause waits for the step in
    // flight, then writes a checkpoint at that step).
    mark('start');
    await page.getByTestId('btn-primary').click();
    await waitFor(
      'the run to start',
      async () => (await runsOf(page))[0]?.status === 'running',
      600_000,
      guard,
    );
    await sleep(500);
    await page.getByTestId('btn-primary').click(); // pause
    mark('pause_clicked');
    const run = await waitFor(
      'the first step',
      async () => (await runsOf(page)).find((r) => r.logged >= 1),
      waitMs,
      guard,
    );
    mark('stepped');
    const ckStep = await waitFor(
      'the pause checkpoint',
      async () => {
        const r = (await runsOf(page))[0];
        if (r.status !== 'paused') return null;
        const has = await page.evaluate(
          ([id, st]) =>
            (
              (window.__temposae!.persistence as () => { checkpoints: Record<string, { step: number }[]> })()
                .checkpoints[id as string] ?? []
            ).some((c) => c.step === st),
          [r.id, r.step] as const,
        );
        return has ? r.step : null;
      },
      waitMs,
      guard,
    );
    mark('checkpointed');
    const by = await page.evaluate(
      () => (window.__temposae!.persistence as () => { checkpointsBy: string | null })().checkpointsBy,
    );
    await screenshot(page, 'scale-browser-checkpointed');
    await sleep(1500);
    // Reload; the run comes back paused, listed with its checkpoint.
    mark('reload');
    await page.reload();
    await page.getByTestId('data-summary').waitFor({ timeout: 120_000 });
    await waitFor(
      'the run after the reload',
      async () => {
        const rs = await runsOf(page).catch(() => []);
        if (Date.now() % 10_000 < 250) console.error(JSON.stringify(rs));
        return rs[0]?.status === 'paused';
      },
      120_000,
      guard,
    );
    mark('reloaded');
    await page.getByTestId('tab-train').click();
    // The dropped file is not kept across a reload: drop it again, as a user would when asked.
    await page.getByTestId('file-input').setInputFiles({
      name: 'acts.npy',
      mimeType: 'application/octet-stream',
      buffer: npyBytes(seqs, seqLen, d),
    });
    await sleep(2000);
    await page.locator(`[data-run-id="${run.id}"] .run-main`).click();
    await sleep(500);
    // Step: the engine restores the run from the OPFS checkpoint (one tensor at a time) and trains a step.
    mark('resume');
    await page.getByTestId('btn-step').click();
    await waitFor(
      'the step after the resume',
      async () => {
        const r = (await runsOf(page)).find((x) => x.id === run.id);
        if (Date.now() % 10_000 < 250) console.error(JSON.stringify(r));
        return r && r.step > ckStep && r.logged > ckStep;
      },
      waitMs,
      guard,
    );
    mark('resumed');
    await sleep(2000);
    mark('export');
    const [dl] = await Promise.all([
      page.waitForEvent('download', { timeout: waitMs }),
      page.getByTestId('btn-export-sae').click(),
    ]);
    const file = await dl.path();
    mark('exported');
    const exportBytes = file ? statSync(file).size : 0;
    if (file) rmSync(file, { force: true });
    await screenshot(page, 'scale-browser-exported');
    await sleep(500);
    Object.assign(result, {
      run: run.id,
      checkpoint_step: ckStep,
      checkpoint_by: by,
      export_mb: mb(exportBytes),
      phases: {
        allocate_and_step: phase(s, marks.start, marks.stepped),
        checkpoint: phase(s, marks.stepped, marks.checkpointed),
        reload: phase(s, marks.reload, marks.reloaded),
        restore_and_step: phase(s, marks.resume, marks.resumed),
        export: phase(s, marks.export, marks.exported),
      },
    });
  } catch (e) {
    result.error = (e as Error).message;
    const pg = h.context.pages()[0];
    if (pg) {
      await screenshot(pg, 'scale-browser-error').catch(() => {});
      result.screen = (
        await pg
          .locator('.message, [role=alert], .hint')
          .allTextContents()
          .catch(() => [])
      )
        .join(' | ')
        .slice(0, 600);
    }
    code = 1;
  } finally {
    result.marks_s = Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, +(v / 1000).toFixed(1)]));
    result.min_available_mb = mb(s.minAvailable());
    result.console = errors.slice(0, 8);
    s.close();
    await h.close();
  }
  console.log(JSON.stringify(result));
  return code;
}
