// The GPU part of the app store: plain data describing the adapter, its limits and any faults.
import type { AdapterSummary, GpuFault } from '../gpu/device';

export type GpuPhase = 'pending' | 'ready' | 'unavailable' | 'lost';

export interface GpuLimitsSummary {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxStorageBuffersPerShaderStage: number;
}

export interface GpuStatus {
  phase: GpuPhase;
  adapter: AdapterSummary | null;
  limits: GpuLimitsSummary | null;
  /** Result of the startup kernel self-test; null until it has run. */
  selfTest: { ok: boolean; maxAbsError: number; ms: number } | null;
  /** Why WebGPU is unavailable, in words; null when it is available. */
  unavailableReason: string | null;
  faults: GpuFault[];
}

export const initialGpuStatus: GpuStatus = {
  phase: 'pending',
  adapter: null,
  limits: null,
  selfTest: null,
  unavailableReason: null,
  faults: [],
};

export function summarizeLimits(l: GPUSupportedLimits): GpuLimitsSummary {
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}
