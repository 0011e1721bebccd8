// Refuse a config before any GPU allocation. Matrices larger than one binding are split (see
// src/sae/gpu/chunks.ts), so what must fit the adapter's binding limit is one block: one sequence of
// feature activations, one decoder row, and the unsplit [N, d] buffers. The total must fit the memory
// budget when one is known. Messages name the bytes needed and the limit that stops it.
import type { TrainConfig } from './config';
import { bufferSpecs } from './gpu/bufferSpecs';
import { planChunks, type ChunkPlan } from './gpu/chunks';
import type { MemoryPlan } from './trainerApi';

export interface MemoryLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Total GPU memory the run may use, when known (WebGPU does not report it; the UI may ask the user). */
  memoryBudgetBytes?: number;
}

export interface DetailedMemoryPlan extends MemoryPlan {
  /** How the big matrices are split (null when the config cannot be split to fit). */
  chunks: ChunkPlan | null;
}

export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

function limitName(limits: MemoryLimits): [string, number] {
  return limits.maxStorageBufferBindingSize <= limits.maxBufferSize
    ? ['maxStorageBufferBindingSize', limits.maxStorageBufferBindingSize]
    : ['maxBufferSize', limits.maxBufferSize];
}

export interface PlanOptions {
  /** Keep a GPU copy of weights + Adam state to restore after divergence (default true). */
  snapshots?: boolean;
}

export function planMemory(
  cfg: TrainConfig,
  limits: MemoryLimits,
  opts: PlanOptions = {},
): DetailedMemoryPlan {
  const [which, bindLimit] = limitName(limits);
  const chunks = planChunks(cfg, bindLimit);
  const lim = `the adapter's ${which} is ${bindLimit} bytes (${formatBytes(bindLimit)})`;
  if ('error' in chunks) {
    const bytes = Number(/needs (\d+) bytes/.exec(chunks.error)?.[1] ?? 0);
    return {
      fits: false,
      bytes: 0,
      largestBuffer: { name: 'feature block', bytes },
      reason: `${chunks.error} but ${lim}. Reduce d_sae or context_size.`,
      chunks: null,
    };
  }
  const specs = bufferSpecs(cfg, chunks, opts.snapshots ?? true);
  const bytes = specs.reduce((a, s) => a + s.bytes, 0);
  const storage = specs.filter((s) => s.kind === 'storage');
  const largest = storage.reduce((a, s) => (s.bytes > a.bytes ? s : a), storage[0]);
  const largestBuffer = { name: largest.name, bytes: largest.bytes };
  const reasons: string[] = [];
  if (largest.bytes > bindLimit) {
    const over = storage.filter((s) => s.bytes > bindLimit).map((s) => `${s.name} (${s.bytes} bytes)`);
    reasons.push(
      `buffer ${largest.name} needs ${largest.bytes} bytes (${formatBytes(largest.bytes)}) but ${lim}; ` +
        `too large: ${over.join(', ')}. Reduce the batch (seqs_per_batch × context_size) or d_in.`,
    );
  }
  if (limits.memoryBudgetBytes !== undefined && bytes > limits.memoryBudgetBytes) {
    reasons.push(
      `the trainer needs ${bytes} bytes (${formatBytes(bytes)}) in total but the memory budget is ` +
        `${limits.memoryBudgetBytes} bytes (${formatBytes(limits.memoryBudgetBytes)})` +
        (opts.snapshots === false
          ? '.'
          : '; turning off divergence snapshots saves one copy of weights and Adam state.'),
    );
  }
  return { fits: reasons.length === 0, bytes, largestBuffer, reason: reasons.join(' '), chunks };
}
