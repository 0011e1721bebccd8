// The two things the bench times, behind one small interface: our WGSL trainer (src/sae/trainer.ts)
// and the TensorFlow.js peer (bench/tfjsPeer.ts). Each is built on the same adapter, starts from the
// same initWeights and steps through the same pre-made batches (alternating, so the upload of a fresh
// batch is part of every step on both sides, as it is in training).
import type { ActivationBatch } from '../src/data/types';
import type { GpuContext } from '../src/gpu/device';
import type { TrainConfig } from '../src/sae/config';
import { createTrainer } from '../src/sae/trainer';
import type { SaeWeights } from '../src/sae/types';
import { createTfjsPeer } from './tfjsPeer';
import type { StepEngine } from './timing';

export interface BenchEngine extends StepEngine {
  /** GPU bytes the engine holds after its steps (our trainer: its allocation; tf.js: its buffer pool). */
  gpuBytes(): number;
  /** Loss of the most recent step (SPEC §4 total), to check that both engines computed the same run. */
  lastLoss(): Promise<number>;
  destroy(): void;
}

export interface PeerEngine extends BenchEngine {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  version: string;
}

function cycling(batches: ActivationBatch[]): () => ActivationBatch {
  let i = 0;
  return () => batches[i++ % batches.length];
}

export async function oursEngine(
  ctx: GpuContext,
  cfg: TrainConfig,
  init: SaeWeights,
  batches: ActivationBatch[],
): Promise<BenchEngine> {
  const t = await createTrainer(ctx, cfg, init);
  const next = cycling(batches);
  return {
    step: () => t.trainStep(next()),
    // readMetrics maps the step's metrics buffer, so it resolves only after the GPU finished the step.
    sync: () => t.readMetrics(),
    gpuBytes: () => t.gpuBytes,
    lastLoss: async () => (await t.readMetrics()).loss,
    destroy: () => t.destroy(),
  };
}

export async function peerEngine(
  gpu: GPU,
  cfg: TrainConfig,
  init: SaeWeights,
  batches: ActivationBatch[],
): Promise<
  BenchEngine & {
    adapter: { vendor: string; architecture: string; device: string; description: string };
    version: string;
  }
> {
  const p = await createTfjsPeer(gpu, cfg, init);
  const next = cycling(batches);
  return {
    adapter: p.adapter,
    version: p.version,
    step: () => p.step(next()),
    sync: () => p.readLosses(),
    gpuBytes: () => p.gpuBytes(),
    lastLoss: async () => (await p.readLosses()).loss,
    destroy: () => p.dispose(),
  };
}
