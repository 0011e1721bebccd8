// The page's training backend, for the engine on the page's thread (src/app/engineClient.ts
// inProcessEngine: Node tests on Dawn, and the browser's fallback where a worker gets no GPU adapter):
// data from src/data through dataSession, weights from initWeights (SPEC §3, the same init as the CPU
// reference), the WebGPU trainer from src/sae/trainer.ts on the page's one device. createTrainer plans
// memory first and refuses with the bytes and the limit. In the browser the engine normally runs in a
// Worker with its own device and data instead (src/engine/workerDeps.ts).
import type { BatcherState } from '../data/batcher';
import { initWeights } from '../sae/init';
import { createTrainer } from '../sae/trainer';
import { adapterName, type GpuContext } from '../gpu/device';
import { messageYielder } from '../engine/workerDeps';
import { initGpu } from './gpuSession';
import { openRunData } from './dataSession';
import type { TrainingBackend } from './engineClient';

/** `gpu`: the page's device (tests drive the same backend on Dawn's device in Node). */
export function createBrowserBackend(gpu: () => Promise<GpuContext> = initGpu): TrainingBackend {
  const faultListeners: ((status: 'lost' | 'error', reason: string, message: string) => void)[] = [];
  const watched = new WeakSet<GpuContext>();
  let last: GpuContext | null = null;
  const device = async () => {
    const ctx = await gpu();
    last = ctx;
    if (!watched.has(ctx)) {
      watched.add(ctx);
      ctx.onFault((f) => {
        for (const l of faultListeners)
          if (f.kind === 'lost') l('lost', f.reason, f.message);
          else l('error', f.errorType, f.message);
      });
    }
    return ctx;
  };
  return {
    openData: openRunData,
    async createTrainer(cfg, firstBatch) {
      return createTrainer(await device(), cfg, initWeights(cfg, firstBatch));
    },
    openDataAt: (key, cfg, position) => openRunData(key, cfg, position as BatcherState),
    async restoreTrainer(cfg, state) {
      // initGpu() hands out a fresh device after a loss, so a restored run lands on a working one.
      // state null: an empty trainer that the streamed checkpoint fills one tensor at a time.
      return createTrainer(await device(), cfg, state);
    },
    yieldToPage: messageYielder(),
    now: () => performance.now(),
    adapter: async () => adapterName((await device()).adapter),
    onDeviceFault: (l) => void faultListeners.push(l),
    destroyDevice: () => last?.device.destroy(),
  };
}
