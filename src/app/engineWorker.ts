// The engine's dedicated Worker: one EngineHost (src/engine/engineHost.ts) with the worker's own GPU
// device and data (src/engine/workerDeps.ts) and, where OPFS gives sync access handles (they exist only in
// dedicated workers), its own checkpoint files: a save streams each tensor from the GPU to its offset in
// the file (src/app/persistence/opfsSync.ts writeFileStreamed: `<name>.partial`, moved onto the name when
// complete), a restore reads one tensor at a time back (openFileReader), so neither the page nor the
// worker holds more than one tensor. Connected to the page through postMessage; the page makes it with
// `new Worker(new URL('./engineWorker.ts', import.meta.url), { type: 'module' })` (engineClient.ts) and
// Vite bundles it as its own chunk. (It lives in src/app, not src/engine, because the storage layer it
// writes through is the app's; the engine itself knows no storage.)
import { EngineHost, type CheckpointFiles } from '../engine/engineHost';
import type { EngineEvent, ToEngine } from '../engine/protocol';
import { workerDeps } from '../engine/workerDeps';
import {
  opfsRoot,
  requireFileReader,
  sweepPartials,
  syncHandlesAvailable,
  writeFileStreamed,
} from './persistence/opfsSync';

interface WorkerScope {
  postMessage(message: EngineEvent, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToEngine>) => void) | null;
  navigator: { gpu?: GPU };
}

/** OPFS checkpoint files through sync access handles, or none where the browser lacks them. */
function opfsFiles(): CheckpointFiles | undefined {
  // A save is moved onto its name when complete (writeFileStreamed); Chromium defines move() on
  // FileSystemFileHandle (not on FileSystemHandle).
  const file = (globalThis as { FileSystemFileHandle?: { prototype: { move?: unknown } } })
    .FileSystemFileHandle;
  if (!syncHandlesAvailable() || typeof file?.prototype.move !== 'function') return undefined;
  return {
    write: async (path, fill) => writeFileStreamed(await opfsRoot(), path, fill),
    reader: async (path) => requireFileReader(await opfsRoot(), path),
  };
}

const scope = self as unknown as WorkerScope;
const files = opfsFiles();
// A save cut off by a crash or a closed tab leaves `<name>.partial` (the old checkpoint stays whole).
// The store's listing hides those files, so nothing else would ever remove them: sweep them once here.
// A save in progress in another tab holds its file's sync handle and is skipped (sweepPartials).
if (files)
  void opfsRoot()
    .then((root) => sweepPartials(root, 'runs/'))
    .then((removed) => {
      if (removed.length) console.info(`engine: removed ${removed.length} cut-off checkpoint save(s)`);
    })
    .catch(() => {});
const host: EngineHost = new EngineHost(
  workerDeps(() => host, scope.navigator.gpu, files),
  (e, transfer) => scope.postMessage(e, transfer ?? []),
);
scope.onmessage = (ev) => host.handle(ev.data);

// A run closed while its readback was mapping (reset, delete, or the rebuild after a lost device destroys
// its buffers) leaves that mapAsync rejected with nobody waiting for the number: expected, not a fault.
// Said as a warning; anything else stays an error.
const GONE = /unmapped before mapping was resolved|device (is |was )?(lost|destroyed)|buffer .*destroyed/i;
(
  self as unknown as { addEventListener(t: string, l: (ev: PromiseRejectionEvent) => void): void }
).addEventListener('unhandledrejection', (ev) => {
  const message = ev.reason instanceof Error ? ev.reason.message : String(ev.reason);
  if (!GONE.test(message)) return;
  ev.preventDefault();
  console.warn(`engine: a readback of a closed run was dropped (${message})`);
});
