// The runs of this session: plain serializable data (config, status, metric history as columns),
// changed by verb-named actions. The training loop (src/app/trainingLoop.ts) writes here through
// getState(); React components select narrow slices. Nothing here holds GPU objects.
import { create } from 'zustand';
import type { TrainConfig } from '../sae/config';
import type { StepMetrics } from '../sae/types';

/**
 * ready: created, nothing allocated yet · starting: building data/trainer · running · paused ·
 * done: token budget reached · stopped: ended early by the user · error: failed (see `error`).
 */
export type RunStatus = 'ready' | 'starting' | 'running' | 'paused' | 'done' | 'stopped' | 'error';

/** The StepMetrics fields kept per readback, as columns (one entry per readback). */
export const METRIC_KEYS = [
  'step',
  'tokens_seen',
  'l_recon',
  'l_sparse',
  'l_temp',
  'l_aux',
  'loss',
  'alpha',
  'l_max',
  'l0',
  'dead_count',
  'grad_norm',
  'lr',
  'l_mat',
  'l_nce',
] as const satisfies readonly (keyof StepMetrics)[];
export type MetricKey = (typeof METRIC_KEYS)[number];
export type MetricHistory = Record<MetricKey, number[]>;

export function emptyHistory(): MetricHistory {
  return Object.fromEntries(METRIC_KEYS.map((k) => [k, []])) as unknown as MetricHistory;
}

export interface RunProgress {
  step: number;
  totalSteps: number;
  tokensSeen: number;
  /** Measured over the recent readbacks; null until two readbacks exist. */
  tokensPerSec: number | null;
  /** Seconds left at the current speed; null when unknown. */
  etaSec: number | null;
}

export interface RunRecord {
  id: string;
  name: string;
  config: TrainConfig;
  /** Key of the data the run trains on (see src/app/dataSession.ts), and its label for people. */
  dataKey: string;
  dataLabel: string;
  status: RunStatus;
  history: MetricHistory;
  progress: RunProgress;
  /** What went wrong and what to do, in words (status 'error'), else null. */
  error: string | null;
  /** Id of the run this one is the λ2 = 0 control of, else null. */
  controlOf: string | null;
  /** Drawn in the charts (the selected run is always drawn). */
  visible: boolean;
  /** Index into the chart palette, fixed at creation so colours do not shift. */
  colorIndex: number;
  createdAt: number;
}

export interface NewRun {
  name: string;
  config: TrainConfig;
  dataKey: string;
  dataLabel: string;
  controlOf?: string | null;
}

export interface RunsState {
  runs: RunRecord[];
  selectedRunId: string | null;
  addRun(r: NewRun): string;
  selectRun(id: string | null): void;
  renameRun(id: string, name: string): void;
  removeRun(id: string): void;
  toggleRunVisible(id: string): void;
  setRunStatus(id: string, status: RunStatus, error?: string | null): void;
  appendMetrics(id: string, m: StepMetrics): void;
  /** Several read-backs at once (the loop batches them so charts redraw a few times a second). */
  appendMetricsBatch(id: string, ms: StepMetrics[]): void;
  setRunProgress(id: string, p: Partial<RunProgress>): void;
  /** Forget the metric history and progress (reset: same config and seed, from step 0). */
  clearRunHistory(id: string): void;
  /** Replace a run's whole record (restoring persisted runs); the id must be new. */
  restoreRun(r: RunRecord): void;
}

let nextRunNumber = 1;

/**
 * Run ids are unique across page loads and tabs, not only within one page: runs are saved under their
 * id, and a run started while the saved ones are still being restored (or in another tab) must never
 * take a saved run's id — it would be replaced by the saved record, and their checkpoints would mix.
 */
function newRunId(n: number): string {
  const salt = new Uint32Array(1);
  globalThis.crypto.getRandomValues(salt);
  return `run-${Date.now().toString(36)}-${salt[0].toString(36).padStart(7, '0').slice(0, 4)}-${n}`;
}

function initialProgress(config: TrainConfig): RunProgress {
  const totalSteps = Math.max(
    1,
    Math.ceil(config.training_tokens / (config.seqs_per_batch * config.context_size)),
  );
  return { step: 0, totalSteps, tokensSeen: 0, tokensPerSec: null, etaSec: null };
}

function updateRun(runs: RunRecord[], id: string, f: (r: RunRecord) => RunRecord): RunRecord[] {
  return runs.map((r) => (r.id === id ? f(r) : r));
}

export const useRunsStore = create<RunsState>()((set, get) => ({
  runs: [],
  selectedRunId: null,
  addRun: (r) => {
    const id = newRunId(nextRunNumber++);
    const used = new Set(get().runs.map((x) => x.colorIndex));
    let colorIndex = 0;
    while (used.has(colorIndex)) colorIndex++;
    const record: RunRecord = {
      id,
      name: r.name,
      config: r.config,
      dataKey: r.dataKey,
      dataLabel: r.dataLabel,
      status: 'ready',
      history: emptyHistory(),
      progress: initialProgress(r.config),
      error: null,
      controlOf: r.controlOf ?? null,
      visible: true,
      colorIndex,
      createdAt: Date.now(),
    };
    set((s) => ({ runs: [...s.runs, record], selectedRunId: id }));
    return id;
  },
  selectRun: (id) => set({ selectedRunId: id }),
  renameRun: (id, name) => set((s) => ({ runs: updateRun(s.runs, id, (r) => ({ ...r, name })) })),
  removeRun: (id) =>
    set((s) => {
      const runs = s.runs.filter((r) => r.id !== id);
      const selectedRunId =
        s.selectedRunId === id ? (runs.length ? runs[runs.length - 1].id : null) : s.selectedRunId;
      return { runs, selectedRunId };
    }),
  toggleRunVisible: (id) =>
    set((s) => ({ runs: updateRun(s.runs, id, (r) => ({ ...r, visible: !r.visible })) })),
  setRunStatus: (id, status, error) =>
    set((s) => ({
      runs: updateRun(s.runs, id, (r) => ({
        ...r,
        status,
        error: status === 'error' ? (error ?? r.error ?? 'Unknown error') : null,
      })),
    })),
  appendMetrics: (id, m) => get().appendMetricsBatch(id, [m]),
  appendMetricsBatch: (id, ms) =>
    set((s) => ({
      runs: updateRun(s.runs, id, (r) => {
        const history = { ...r.history };
        // l_mat / l_nce are optional in StepMetrics (Matryoshka, T-SAE): 0 where a trainer leaves them out.
        for (const k of METRIC_KEYS) history[k] = r.history[k].concat(ms.map((m) => m[k] ?? 0));
        return { ...r, history };
      }),
    })),
  setRunProgress: (id, p) =>
    set((s) => ({ runs: updateRun(s.runs, id, (r) => ({ ...r, progress: { ...r.progress, ...p } })) })),
  clearRunHistory: (id) =>
    set((s) => ({
      runs: updateRun(s.runs, id, (r) => ({
        ...r,
        history: emptyHistory(),
        progress: initialProgress(r.config),
        error: null,
      })),
    })),
  restoreRun: (r) => {
    // A run already in the page (started meanwhile) is never replaced by a saved record.
    if (get().runs.some((x) => x.id === r.id)) return;
    set((s) => ({ runs: [...s.runs, r] }));
  },
}));

/** The run with this id, or undefined. */
export function findRun(id: string): RunRecord | undefined {
  return useRunsStore.getState().runs.find((r) => r.id === id);
}
