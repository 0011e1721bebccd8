// The dedicated worker of storage-test.html (test/e2e/opfsSync.test.ts): saves and restores checkpoints
// the way the engine's worker does, through RunRepository over opfsSyncStore (sync access handles for
// the streamed save and the per-tensor reads, the OPFS store for the rest). Each command is answered
// with one message { id, ok, value | error }; a slow save also reports each part it has written, so
// that the test can terminate the worker in the middle of one (a crash).
import { readCheckpoint, serializeCheckpointParts, type Checkpoint } from '../../io/checkpoint';
import { DEFAULT_CONFIG } from '../../sae/config';
import { initialTrainerState } from '../../sae/init';
import { openOpfsStore } from './opfsStore';
import { opfsRoot, opfsSyncStore, requireFileReader, sweepPartials, syncHandlesAvailable } from './opfsSync';
import { RunRepository } from './runRepository';

export type CheckCommand =
  | { op: 'save'; runId: string; step: number; d: number; m: number; partDelayMs?: number }
  | { op: 'restore'; runId: string; d: number; m: number }
  | { op: 'list'; prefix: string }
  | { op: 'sweep' }
  | { op: 'read-missing' }
  | { op: 'env' }
  | { op: 'entries'; dir: string[] };

/** A checkpoint whose every value follows from (step, d, m), so a restore can be checked exactly. */
function checkpointOf(step: number, d: number, m: number): Checkpoint {
  const w = {
    d_in: d,
    d_sae: m,
    W_enc: new Float32Array(d * m).map((_, i) => step + (i % 997) / 1024),
    b_enc: new Float32Array(m).fill(-step),
    W_dec: new Float32Array(m * d).map((_, i) => (i % 13) - step / 7),
    b_dec: new Float32Array(d).fill(step / 3),
  };
  return {
    config: { ...DEFAULT_CONFIG, d_in: d, d_sae: m },
    trainer: { ...initialTrainerState(w), step, tokens_seen: step * 4096, alpha: { l_max: 0.5 } },
    data_state: { cursor: step },
    scaling_factor: 1,
    extra: {},
    created_at: `step ${step}`,
  };
}

function sameArrays(a: unknown, b: unknown): boolean {
  if (a instanceof Float32Array && b instanceof Float32Array)
    return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return (
      ka.join() === kb.join() &&
      ka.every((k) => sameArrays((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return Object.is(a, b);
}

const post = (m: unknown) => (self as unknown as { postMessage(m: unknown): void }).postMessage(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let repo: Promise<{ repo: RunRepository; list: (p: string) => Promise<unknown> }> | null = null;
const open = () =>
  (repo ??= (async () => {
    const base = await openOpfsStore();
    return { repo: new RunRepository(opfsSyncStore(await opfsRoot(), base)), list: (p) => base.list(p) };
  })());

async function run(id: number, c: CheckCommand): Promise<unknown> {
  const { repo, list } = await open();
  switch (c.op) {
    case 'env':
      return { syncHandles: syncHandlesAvailable() };
    case 'save': {
      const parts = serializeCheckpointParts(checkpointOf(c.step, c.d, c.m));
      const t0 = performance.now();
      const info = await repo.saveCheckpointStream(c.runId, c.step, async (sink) => {
        for (const [i, p] of parts.entries()) {
          await sink.write(p);
          if (c.partDelayMs) {
            post({ id, progress: i + 1, of: parts.length });
            await sleep(c.partDelayMs);
          }
        }
      });
      return { ...info, ms: performance.now() - t0, parts: parts.length };
    }
    case 'restore': {
      const t0 = performance.now();
      const found = await repo.openLatestCheckpoint(c.runId);
      if (!found) return null;
      const ck = await readCheckpoint(found.checkpoint);
      const step = found.info.step;
      return {
        step,
        exact: sameArrays(ck, checkpointOf(step, c.d, c.m)),
        skipped: found.skipped,
        ms: performance.now() - t0,
      };
    }
    case 'entries': {
      // The folder's entries as OPFS has them (name, kind, size), files in progress included.
      let d = (await navigator.storage.getDirectory()) as unknown as {
        getDirectoryHandle(n: string): Promise<unknown>;
        entries(): AsyncIterable<[string, { kind: string; getFile?: () => Promise<File> }]>;
      };
      for (const n of c.dir) d = (await d.getDirectoryHandle(n)) as typeof d;
      const r: string[] = [];
      for await (const [n, h] of d.entries())
        r.push(
          `${n} ${h.kind} ${
            h.getFile
              ? await h.getFile().then(
                  (f) => f.size,
                  (e: Error) => e.name,
                )
              : ''
          }`,
        );
      return r;
    }
    case 'list':
      return list(c.prefix);
    case 'sweep':
      return sweepPartials(await opfsRoot());
    case 'read-missing':
      return requireFileReader(await opfsRoot(), 'runs/none/checkpoints/step-000000001.safetensors').then(
        () => 'no error',
        (e: Error) => e.message,
      );
  }
}

self.onmessage = (ev: MessageEvent<{ id: number; cmd: CheckCommand }>) => {
  const { id, cmd } = ev.data;
  run(id, cmd).then(
    (value) => post({ id, ok: true, value }),
    (e: Error) => post({ id, ok: false, error: `${e.name}: ${e.message}` }),
  );
};
