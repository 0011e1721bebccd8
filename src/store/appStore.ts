// The app store (zustand): plain serializable data changed by verb-named actions. Loops outside React
// (the trainer) read and write it through getState/subscribe.
import { create } from 'zustand';
import type { AdapterSummary, GpuFault } from '../gpu/device';
import { initialGpuStatus, type GpuLimitsSummary, type GpuStatus } from './gpuStatus';

export interface AppMessage {
  id: number;
  level: 'error' | 'warning' | 'info';
  /** Short headline naming the problem. */
  title: string;
  /** What happened and what to do next. */
  detail: string;
  /** How many times this same message was posted (repeats are folded into one entry). */
  count: number;
  /**
   * What the message is about (e.g. `run:run-3`): a newer message with the same key replaces it, so the
   * latest news about a run stands alone (a run that moved to a new device is no longer "stopped").
   */
  key?: string;
}

export interface AppState {
  gpu: GpuStatus;
  messages: AppMessage[];
  gpuReady(adapter: AdapterSummary, limits: GpuLimitsSummary): void;
  gpuUnavailable(reason: string): void;
  gpuSelfTested(result: { ok: boolean; maxAbsError: number; ms: number }): void;
  gpuFaulted(fault: GpuFault): void;
  postMessage(m: Omit<AppMessage, 'id' | 'count'>): void;
  dismissMessage(id: number): void;
}

let nextMessageId = 1;

export const useAppStore = create<AppState>()((set) => ({
  gpu: initialGpuStatus,
  messages: [],
  gpuReady: (adapter, limits) => set((s) => ({ gpu: { ...s.gpu, phase: 'ready', adapter, limits } })),
  gpuUnavailable: (reason) =>
    set((s) => ({ gpu: { ...s.gpu, phase: 'unavailable', unavailableReason: reason } })),
  gpuSelfTested: (selfTest) => set((s) => ({ gpu: { ...s.gpu, selfTest } })),
  gpuFaulted: (fault) =>
    set((s) => ({
      gpu: {
        ...s.gpu,
        phase: fault.kind === 'lost' ? 'lost' : s.gpu.phase,
        faults: [...s.gpu.faults, fault],
      },
    })),
  // A fault that repeats every step (e.g. a GPU validation error) must not bury the page: the same
  // message is counted, not stacked.
  postMessage: (m) =>
    set((s) => {
      if (m.key) {
        const old = s.messages.find((x) => x.key === m.key);
        if (old && old.level === m.level && old.title === m.title && old.detail === m.detail)
          return { messages: s.messages.map((x) => (x === old ? { ...x, count: x.count + 1 } : x)) };
        const rest = s.messages.filter((x) => x.key !== m.key);
        return { messages: [...rest, { ...m, id: nextMessageId++, count: 1 }] };
      }
      const same = s.messages.find(
        (x) => x.level === m.level && x.title === m.title && x.detail === m.detail,
      );
      if (same) return { messages: s.messages.map((x) => (x === same ? { ...x, count: x.count + 1 } : x)) };
      return { messages: [...s.messages, { ...m, id: nextMessageId++, count: 1 }] };
    }),
  dismissMessage: (id) => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })),
}));
