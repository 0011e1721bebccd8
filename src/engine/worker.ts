// The engine's dedicated Worker: one EngineHost (./engineHost.ts) with the worker's own device and data
// (./workerDeps.ts), connected to the page through postMessage. The page makes it with
// `new Worker(new URL('../engine/worker.ts', import.meta.url), { type: 'module' })` (src/app/engineClient.ts);
// Vite bundles it as its own chunk.
import { EngineHost } from './engineHost';
import type { EngineEvent, ToEngine } from './protocol';
import { workerDeps } from './workerDeps';

interface WorkerScope {
  postMessage(message: EngineEvent, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToEngine>) => void) | null;
  navigator: { gpu?: GPU };
}

const scope = self as unknown as WorkerScope;
const host: EngineHost = new EngineHost(
  workerDeps(() => host, scope.navigator.gpu),
  (e, transfer) => scope.postMessage(e, transfer ?? []),
);
scope.onmessage = (ev) => host.handle(ev.data);
