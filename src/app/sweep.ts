// Sweeps (issue 6): from a run, variants over one knob (e.g. λ2 ∈ {0, 0.005, 0.02, 0.04}) with the
// same seed, data and every other setting, trained one after another; each is evaluated at its end
// and the sweep lands in the comparison view. A run that fails ends the sweep with its message; a
// run the user pauses or stops ends it too (the finished runs stay).
import type { TrainConfig } from '../sae/config';
import { useAnalysisStore } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { useWorkspaceStore } from '../store/workspaceStore';
import { evaluationSettled } from './evaluation';
import { createRun, startRun, stopRun, whenIdle } from './trainingLoop';

export interface SweepKnob {
  key: keyof TrainConfig;
  label: string;
  /** Suggested values (the method's λ2 grid for λ2). */
  values: number[];
  integer?: boolean;
}

export const SWEEP_KNOBS: SweepKnob[] = [
  { key: 'temporal_coefficient', label: 'λ2', values: [0, 0.005, 0.02, 0.04] },
  { key: 'l1_coefficient', label: 'λ1', values: [0.01, 0.02, 0.04, 0.08] },
  { key: 'alpha_beta', label: 'β', values: [1, 5, 20] },
  { key: 'd_sae', label: 'd_sae', values: [256, 512, 1024], integer: true },
  { key: 'k', label: 'k', values: [8, 16, 32], integer: true },
  { key: 'lr', label: 'lr', values: [1e-4, 3e-4, 1e-3] },
];

/** Parse "0, 0.005, 0.02" into numbers; throws naming the first bad entry. */
export function parseSweepValues(text: string, knob: SweepKnob): number[] {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error('Give at least one value.');
  const out = parts.map((p) => {
    const v = Number(p);
    if (!Number.isFinite(v) || v < 0) throw new Error(`“${p}” is not a number ≥ 0.`);
    if (knob.integer && !Number.isInteger(v))
      throw new Error(`${knob.label} must be a whole number (got ${p}).`);
    return v;
  });
  if (new Set(out).size !== out.length) throw new Error('Each value once, please.');
  return out;
}

let nextSweep = 1;
let stopping = new Set<string>();

/** Queue the variants as new runs and train them one after another; returns the sweep id at once. */
export function startSweep(baseRunId: string, knobKey: keyof TrainConfig, values: number[]): string {
  const base = findRun(baseRunId);
  if (!base) throw new Error(`No run ${baseRunId}.`);
  const knob = SWEEP_KNOBS.find((k) => k.key === knobKey);
  if (!knob) throw new Error(`${String(knobKey)} cannot be swept.`);
  const id = `sweep-${nextSweep++}`;
  const runIds = values.map((v) =>
    createRun({
      config: { ...base.config, [knobKey]: v } as TrainConfig,
      dataKey: base.dataKey,
      dataLabel: base.dataLabel,
      name: `sweep ${knob.label}=${v}`,
    }),
  );
  const store = useAnalysisStore.getState();
  store.sweepAdded({ id, baseRunId, knob: knobKey, values, runIds, status: 'running', error: null });
  store.setCompareRuns(runIds);
  store.setSweepMetric('tv_ratio');
  useWorkspaceStore.getState().openTab('compare');
  void runSweep(id, runIds);
  return id;
}

async function runSweep(id: string, runIds: string[]): Promise<void> {
  const upd = (patch: Parameters<ReturnType<typeof useAnalysisStore.getState>['sweepUpdated']>[1]) =>
    useAnalysisStore.getState().sweepUpdated(id, patch);
  for (const runId of runIds) {
    if (stopping.has(id)) break;
    await startRun(runId);
    await whenIdle(runId);
    await evaluationSettled(runId);
    const run = findRun(runId);
    if (!run) return upd({ status: 'stopped', error: 'A run of the sweep was deleted.' });
    if (run.status === 'error') return upd({ status: 'error', error: `${run.name}: ${run.error}` });
    if (run.status !== 'done') return upd({ status: 'stopped', error: `${run.name} was ${run.status}.` });
  }
  upd({ status: stopping.has(id) ? 'stopped' : 'done' });
  stopping = new Set([...stopping].filter((s) => s !== id));
}

/** End a sweep: the run in progress stops, the rest are not started. */
export async function stopSweep(id: string): Promise<void> {
  const sw = useAnalysisStore.getState().sweeps.find((s) => s.id === id);
  if (!sw || sw.status !== 'running') return;
  stopping.add(id);
  for (const r of sw.runIds) if (findRun(r)?.status === 'running') await stopRun(r);
}
