// Run lifecycle events, for observers only (tests, DevTools): nothing in the app coordinates through
// them. What a run does after a step (evaluate, checkpoint) is decided by its RunSession
// (src/engine/schedule.ts), and storage is called directly (trainingLoop's RunStorage).
import type { StepMetrics } from '../sae/types';

export type RunEvent =
  | { type: 'created'; runId: string }
  | { type: 'started'; runId: string }
  | { type: 'paused'; runId: string; step: number }
  | { type: 'resumed'; runId: string }
  | { type: 'stepped'; runId: string; step: number }
  | { type: 'metrics'; runId: string; metrics: StepMetrics }
  | { type: 'reset'; runId: string }
  | { type: 'stopped'; runId: string; step: number }
  | { type: 'done'; runId: string; step: number }
  | { type: 'error'; runId: string; message: string }
  | { type: 'deleted'; runId: string };

type Listener = (e: RunEvent) => void;
const listeners = new Set<Listener>();

/** Subscribe to every run's lifecycle; returns the unsubscribe function. */
export function onRunEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function emitRunEvent(e: RunEvent): void {
  for (const l of listeners) {
    try {
      l(e);
    } catch (err) {
      // A faulty listener must not stop training or the other listeners.
      console.warn(`run event listener failed on ${e.type}:`, err);
    }
  }
}
