// Refuse a config before any GPU allocation: every buffer must fit the adapter's binding and buffer size
// limits, and the total must fit the memory budget when one is known. The message names the bytes needed
// and the limit that stops it.
import type { TrainConfig } from './config';
import { bufferSpecs } from './gpu/bufferSpecs';
import type { MemoryPlan } from './trainerApi';

export interface MemoryLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Total GPU memory the run may use, when known (WebGPU does not report it; the UI may ask the user). */
  memoryBudgetBytes?: number;
}

export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

export function planMemory(cfg: TrainConfig, limits: MemoryLimits): MemoryPlan {
  const specs = bufferSpecs(cfg);
  const bytes = specs.reduce((a, s) => a + s.bytes, 0);
  const storage = specs.filter((s) => s.kind === 'storage');
  const largest = storage.reduce((a, s) => (s.bytes > a.bytes ? s : a), storage[0]);
  const largestBuffer = { name: largest.name, bytes: largest.bytes };
  const reasons: string[] = [];
  const bindLimit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (largest.bytes > bindLimit) {
    const which =
      limits.maxStorageBufferBindingSize <= limits.maxBufferSize
        ? 'maxStorageBufferBindingSize'
        : 'maxBufferSize';
    const over = storage.filter((s) => s.bytes > bindLimit).map((s) => `${s.name} (${s.bytes} bytes)`);
    reasons.push(
      `buffer ${largest.name} needs ${largest.bytes} bytes (${formatBytes(largest.bytes)}) but the adapter's ` +
        `${which} is ${bindLimit} bytes (${formatBytes(bindLimit)}); too large: ${over.join(', ')}. ` +
        `Reduce d_sae or the batch (seqs_per_batch × context_size).`,
    );
  }
  if (limits.memoryBudgetBytes !== undefined && bytes > limits.memoryBudgetBytes) {
    reasons.push(
      `the trainer needs ${bytes} bytes (${formatBytes(bytes)}) in total but the memory budget is ` +
        `${limits.memoryBudgetBytes} bytes (${formatBytes(limits.memoryBudgetBytes)}).`,
    );
  }
  return { fits: reasons.length === 0, bytes, largestBuffer, reason: reasons.join(' ') };
}
