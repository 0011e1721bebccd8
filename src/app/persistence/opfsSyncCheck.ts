// Entry of storage-test.html: starts the checkpoint worker (./opfsSyncCheck.worker.ts) on request and
// passes commands to it, for test/e2e/opfsSync.test.ts. window.__opfsCheck.spawn() makes a worker and
// returns its number; call(n, cmd) resolves with the worker's answer (or its first progress report with
// { untilProgress: k }); kill(n) terminates it, as a crashed tab's worker ends.
import { syncHandlesAvailable } from './opfsSync';
import type { CheckCommand } from './opfsSyncCheck.worker';

type Answer = { ok: boolean; value?: unknown; error?: string; progress?: number };

declare global {
  interface Window {
    __opfsCheck?: {
      pageHasSyncHandles: boolean;
      /** Every answer of every worker, late ones included (a save's failure after its progress). */
      log: unknown[];
      spawn(): number;
      call(n: number, cmd: CheckCommand, opts?: { untilProgress?: number }): Promise<Answer>;
      kill(n: number): void;
    };
  }
}

const workers = new Map<number, Worker>();
let nextId = 0;
let nextWorker = 1;

window.__opfsCheck = {
  pageHasSyncHandles: syncHandlesAvailable(),
  log: [],
  spawn() {
    const n = nextWorker++;
    const w = new Worker(new URL('./opfsSyncCheck.worker.ts', import.meta.url), { type: 'module' });
    w.addEventListener('message', (ev) => window.__opfsCheck!.log.push({ worker: n, ...ev.data }));
    workers.set(n, w);
    return n;
  },
  call(n, cmd, opts = {}) {
    const w = workers.get(n)!;
    const id = nextId++;
    return new Promise((resolve) => {
      const on = (ev: MessageEvent<Answer & { id: number }>) => {
        if (ev.data.id !== id) return;
        if (ev.data.progress !== undefined && ev.data.progress < (opts.untilProgress ?? Infinity)) return;
        w.removeEventListener('message', on);
        resolve(ev.data);
      };
      w.addEventListener('message', on);
      w.addEventListener('error', (e) => resolve({ ok: false, error: `worker error: ${e.message}` }), {
        once: true,
      });
      w.postMessage({ id, cmd });
    });
  },
  kill(n) {
    workers.get(n)?.terminate();
    workers.delete(n);
  },
};
document.getElementById('result')!.textContent = 'ready';
document.getElementById('result')!.dataset.ready = '1';
