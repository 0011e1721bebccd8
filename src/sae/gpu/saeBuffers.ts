// Allocates every buffer listed by bufferSpecs once, with labels `sae.<name>`.
import { createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import type { TrainConfig } from '../config';
import { bufferSpecs } from './bufferSpecs';
import type { ChunkPlan } from './chunks';

export type SaeBuffers = Record<string, GPUBuffer>;

export function allocateSaeBuffers(
  device: GPUDevice,
  cfg: TrainConfig,
  chunks: ChunkPlan,
  snapshots = true,
): { buffers: SaeBuffers; bytes: number } {
  const buffers: SaeBuffers = {};
  let bytes = 0;
  for (const s of bufferSpecs(cfg, chunks, snapshots)) {
    const label = `sae.${s.name}`;
    if (s.kind === 'uniform') buffers[s.name] = createUniformBuffer(device, label, s.bytes);
    else if (s.kind === 'staging')
      buffers[s.name] = device.createBuffer({
        label,
        size: s.bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    else buffers[s.name] = createStorageBuffer(device, label, s.bytes);
    bytes += buffers[s.name].size;
  }
  return { buffers, bytes };
}
