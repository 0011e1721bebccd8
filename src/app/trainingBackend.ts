// The real training backend: data from src/data through dataSession, weights from initWeights
// (SPEC §3, the same init as the CPU reference), the WebGPU trainer from src/sae/trainer.ts on the
// page's one device. createTrainer plans memory first and refuses with the bytes and the limit.
import type { BatcherState } from '../data/batcher';
import { initWeights } from '../sae/init';
import { createTrainer } from '../sae/trainer';
import type { GpuContext } from '../gpu/device';
import { initGpu } from './gpuSession';
import { openRunData } from './dataSession';
import type { TrainingBackend } from './trainingLoop';

/** Yield to the event loop without setTimeout's 4 ms clamp: a message posted to ourselves. */
function makeYielder(): () => Promise<void> {
  const ch = new MessageChannel();
  const waiting: (() => void)[] = [];
  ch.port1.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      ch.port2.postMessage(0);
    });
}

/** `gpu`: the page's device (tests drive the same backend on Dawn's device in Node). */
export function createBrowserBackend(gpu: () => Promise<GpuContext> = initGpu): TrainingBackend {
  const initGpu = gpu;
  return {
    openData: openRunData,
    async createTrainer(cfg, firstBatch) {
      const gpu = await initGpu();
      return createTrainer(gpu, cfg, initWeights(cfg, firstBatch));
    },
    openDataAt: (key, cfg, position) => openRunData(key, cfg, position as BatcherState),
    async restoreTrainer(cfg, state) {
      // initGpu() hands out a fresh device after a loss, so a restored run lands on a working one.
      // state null: an empty trainer that the streamed checkpoint fills one tensor at a time.
      const gpu = await initGpu();
      return createTrainer(gpu, cfg, state);
    },
    yieldToPage: makeYielder(),
    now: () => performance.now(),
  };
}
