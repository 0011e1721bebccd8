// Analysis state (issue 6): each run's held-out evaluation history, the latest full evaluation
// (clustering, per-feature densities), the feature inspector, the comparison selection and sweeps.
// Plain serializable data changed by verb-named actions; src/app/evaluation.ts and src/app/sweep.ts
// write here through getState(), the views in src/ui/analysis select narrow slices.
import { create } from 'zustand';
import type { DashboardContext, FeatureDashboard, TokenCell } from '../analysis/featureDashboard';
import type { DensityHistogram } from '../analysis/histogram';
import type { EvalByPosition, EvalClustering, EvalFeatures, EvalMetrics } from '../analysis/evaluate';
import type { LiteratureGroup } from '../analysis/literature';
import type { LossRecoveredMetrics } from '../lm/lossRecovered';
import type { TrainConfig } from '../sae/config';

/** One evaluation on the held-out sequences: the part kept for every evaluation of a run. */
export interface EvalRecord {
  step: number;
  tokensSeen: number;
  metrics: EvalMetrics;
  byPosition: EvalByPosition;
  densityHist: DensityHistogram;
  /** Wall time of the evaluation, milliseconds. */
  ms: number;
  /**
   * Training step when the last forward pass was submitted: equal to `step` when the held-out set fit
   * one forward group (the usual case), else training went on between groups.
   */
  stepEnd?: number;
  /** Loss recovered with the language model at this step (issue 12, SPEC §10), when it was evaluated. */
  lossRecovered?: LossRecoveredRecord;
  /** Matryoshka / T-SAE: explained variance, smoothness and FFT ratio per nested prefix (SPEC §11). */
  prefixes?: LiteratureGroup[];
}

/** Loss recovered of a run's SAE spliced into the model (SAEBench core names; src/lm/lossRecovered.ts). */
export interface LossRecoveredRecord extends LossRecoveredMetrics {
  /** The model, hook and held-out rows it was measured on. */
  model: string;
  hook: string;
  rows: number;
  ms: number;
}

/** A loss-recovered evaluation in progress (rows done of rows) or its failure. */
export interface LossRecoveredProgress {
  running: boolean;
  rowsDone: number;
  rows: number;
  error: string | null;
}

/** The per-feature part of the most recent evaluation (it scales with d_sae, so only the latest is kept). */
export interface LatestEval {
  step: number;
  T: number;
  clustering: EvalClustering | null;
  features: EvalFeatures;
}

export interface RunAnalysis {
  evals: EvalRecord[];
  latest: LatestEval | null;
  evaluating: boolean;
  /** Why the last evaluation failed, in words; null when it did not. */
  error: string | null;
}

/** A context around one activation of the inspected feature (cells: text, id, activation). */
export type FeatureContext = DashboardContext;

export interface InspectorData {
  runId: string;
  feature: number;
  step: number;
  density: number;
  /** Mean activation where it fires. */
  meanActive: number;
  maxActivation: number;
  /** One whole held-out sequence: the one with the strongest activation, or the one chosen. */
  trace: { sequence: number; tokens: TokenCell[] };
  sequences: number;
  /** Where the token text comes from ("token ids" when there is none). */
  tokenSource: { name: string; kind: string };
  /** Top-k contexts, quantile groups, histogram and temporal behaviour (src/analysis/featureDashboard.ts). */
  dashboard: FeatureDashboard;
  topContexts: FeatureContext[];
  /** Histogram of the non-zero activations. */
  histogram: { edges: number[]; counts: number[] };
  nearest: { feature: number; cos: number }[];
  /** Synthetic data: the true feature this decoder row is closest to. */
  trueFeature: { index: number; cos: number } | null;
}

export interface InspectorState {
  runId: string | null;
  feature: number | null;
  /** Held-out sequence shown in the trace (null: the one with the strongest activation). */
  sequence: number | null;
  loading: boolean;
  data: InspectorData | null;
  error: string | null;
}

/** How many contexts the inspector shows and how much text around each (src/analysis/featureDashboard.ts). */
export interface InspectorOptions {
  top: number;
  before: number;
  after: number;
}

export const INSPECTOR_DEFAULTS: InspectorOptions = { top: 20, before: 12, after: 4 };

export type SweepStatus = 'queued' | 'running' | 'done' | 'stopped' | 'error';

export interface SweepRecord {
  id: string;
  baseRunId: string;
  knob: keyof TrainConfig;
  values: number[];
  runIds: string[];
  status: SweepStatus;
  error: string | null;
}

export interface MatchingSummary {
  runA: string;
  runB: string;
  meanCos: number;
  /** Matched cosines, decreasing. */
  cos: number[];
  /** First pairs (a, b, cos) for the table. */
  pairs: [number, number, number][];
}

export type HeatMode = 'position' | 'sequence';

/** The frontier's y axis: a held-out metric, or loss recovered with the model (issue 12). */
export type FrontierMetric = 'explained_variance' | 'mmcs' | 'ce_loss_score';

export interface AnalysisState {
  byRun: Record<string, RunAnalysis>;
  inspector: InspectorState;
  inspectorOptions: InspectorOptions;
  /** Clustering settings and heatmap mode of the features view. */
  clusterK: number;
  heatMode: HeatMode;
  heatSequence: number;
  /** Runs shown in the comparison view (empty: every run with an evaluation). */
  compareRunIds: string[];
  /** Show the method's published baselines (imported numbers) on the frontier. */
  showReferences: boolean;
  frontierMetric: FrontierMetric;
  sweepMetric: string;
  sweeps: SweepRecord[];
  matching: MatchingSummary | null;
  /** Loss-recovered evaluations in progress or failed, by run. */
  lossRecovered: Record<string, LossRecoveredProgress>;

  evaluationStarted(runId: string): void;
  evaluationRecorded(runId: string, record: EvalRecord, latest: LatestEval): void;
  /** Evaluations of a run read back from storage after a reload. */
  evaluationsRestored(runId: string, evals: EvalRecord[]): void;
  evaluationFailed(runId: string, error: string): void;
  forgetRun(runId: string): void;
  openFeature(runId: string, feature: number, sequence?: number | null): void;
  inspectorLoaded(data: InspectorData): void;
  inspectorFailed(error: string): void;
  closeInspector(): void;
  setInspectorOptions(o: Partial<InspectorOptions>): void;
  setClusterK(k: number): void;
  setHeatMode(m: HeatMode): void;
  setHeatSequence(s: number): void;
  setCompareRuns(ids: string[]): void;
  toggleCompareRun(id: string): void;
  setShowReferences(on: boolean): void;
  setFrontierMetric(m: FrontierMetric): void;
  setSweepMetric(m: string): void;
  sweepAdded(s: SweepRecord): void;
  sweepUpdated(id: string, patch: Partial<Pick<SweepRecord, 'status' | 'error' | 'runIds'>>): void;
  matchingComputed(m: MatchingSummary | null): void;
  lossRecoveredProgress(runId: string, p: LossRecoveredProgress): void;
  /** Stores loss recovered with the run's latest evaluation record at or before `step`. */
  lossRecoveredRecorded(runId: string, step: number, r: LossRecoveredRecord): void;
}

const emptyRun = (): RunAnalysis => ({ evals: [], latest: null, evaluating: false, error: null });
const closedInspector: InspectorState = {
  runId: null,
  feature: null,
  sequence: null,
  loading: false,
  data: null,
  error: null,
};

function patchRun(s: AnalysisState, id: string, f: (r: RunAnalysis) => RunAnalysis) {
  return { byRun: { ...s.byRun, [id]: f(s.byRun[id] ?? emptyRun()) } };
}

export const useAnalysisStore = create<AnalysisState>()((set) => ({
  byRun: {},
  inspector: closedInspector,
  inspectorOptions: INSPECTOR_DEFAULTS,
  clusterK: 128,
  heatMode: 'position',
  heatSequence: 0,
  compareRunIds: [],
  showReferences: true,
  frontierMetric: 'explained_variance',
  sweepMetric: 'tv_ratio',
  sweeps: [],
  matching: null,
  lossRecovered: {},

  evaluationStarted: (id) => set((s) => patchRun(s, id, (r) => ({ ...r, evaluating: true }))),
  evaluationRecorded: (id, record, latest) =>
    set((s) =>
      patchRun(s, id, (r) => ({
        // One record per step: a re-evaluation of the same step replaces the earlier one.
        evals: [...r.evals.filter((e) => e.step !== record.step), record].sort((a, b) => a.step - b.step),
        latest,
        evaluating: false,
        error: null,
      })),
    ),
  evaluationsRestored: (id, evals) =>
    set((s) => patchRun(s, id, (r) => ({ ...r, evals: [...evals].sort((a, b) => a.step - b.step) }))),
  evaluationFailed: (id, error) => set((s) => patchRun(s, id, (r) => ({ ...r, evaluating: false, error }))),
  forgetRun: (id) =>
    set((s) => {
      const byRun = { ...s.byRun };
      delete byRun[id];
      return {
        byRun,
        inspector: s.inspector.runId === id ? closedInspector : s.inspector,
        compareRunIds: s.compareRunIds.filter((r) => r !== id),
        matching: s.matching && (s.matching.runA === id || s.matching.runB === id) ? null : s.matching,
      };
    }),
  openFeature: (runId, feature, sequence = null) =>
    set((s) => ({
      inspector: {
        runId,
        feature,
        sequence,
        loading: true,
        error: null,
        data: s.inspector.runId === runId && s.inspector.feature === feature ? s.inspector.data : null,
      },
    })),
  inspectorLoaded: (data) =>
    set((s) =>
      s.inspector.runId === data.runId && s.inspector.feature === data.feature
        ? { inspector: { ...s.inspector, loading: false, data, error: null } }
        : {},
    ),
  inspectorFailed: (error) => set((s) => ({ inspector: { ...s.inspector, loading: false, error } })),
  closeInspector: () => set({ inspector: closedInspector }),
  setInspectorOptions: (o) => set((s) => ({ inspectorOptions: { ...s.inspectorOptions, ...o } })),
  setClusterK: (clusterK) => set({ clusterK: Math.max(2, Math.min(512, Math.round(clusterK))) }),
  setHeatMode: (heatMode) => set({ heatMode }),
  setHeatSequence: (heatSequence) => set({ heatSequence }),
  setCompareRuns: (compareRunIds) => set({ compareRunIds }),
  toggleCompareRun: (id) =>
    set((s) => ({
      compareRunIds: s.compareRunIds.includes(id)
        ? s.compareRunIds.filter((r) => r !== id)
        : [...s.compareRunIds, id],
    })),
  setShowReferences: (showReferences) => set({ showReferences }),
  setFrontierMetric: (frontierMetric) => set({ frontierMetric }),
  setSweepMetric: (sweepMetric) => set({ sweepMetric }),
  sweepAdded: (sw) => set((s) => ({ sweeps: [...s.sweeps, sw] })),
  sweepUpdated: (id, patch) =>
    set((s) => ({ sweeps: s.sweeps.map((w) => (w.id === id ? { ...w, ...patch } : w)) })),
  matchingComputed: (matching) => set({ matching }),
  lossRecoveredProgress: (runId, p) => set((s) => ({ lossRecovered: { ...s.lossRecovered, [runId]: p } })),
  lossRecoveredRecorded: (runId, step, lr) =>
    set((s) => ({
      ...patchRun(s, runId, (r) => {
        // The latest record at or before `step` carries it (the session evaluates first when there is none).
        const at = r.evals.findLastIndex((e) => e.step <= step);
        const evals = [...r.evals];
        if (at >= 0) evals[at] = { ...evals[at], lossRecovered: lr };
        return { ...r, evals };
      }),
      lossRecovered: { ...s.lossRecovered, [runId]: { running: false, rowsDone: 0, rows: 0, error: null } },
    })),
}));
