// Dashboards and reports that travel (issue 10): the inspected feature, a chosen set of features or a
// whole run's report, built from the same dashboards as the inspector (src/app/evaluationInspect.ts)
// and written in the documented shapes of src/io/dashboardJson.ts and src/io/htmlReport.ts.
import { DASHBOARD_DEFAULTS } from '../analysis/featureDashboard';
import { dashboardFile, type DashboardFile } from '../io/dashboardJson';
import { buildHtmlReport } from '../io/htmlReport';
import { useAnalysisStore, type InspectorData } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { featureDashboards } from './evaluationInspect';

/** The context window the dashboards were built with (the inspector's options). */
function contextNow() {
  const o = useAnalysisStore.getState().inspectorOptions;
  return { before: o.before ?? DASHBOARD_DEFAULTS.before, after: o.after ?? DASHBOARD_DEFAULTS.after };
}

function runInfo(runId: string, step: number): DashboardFile['run'] {
  const run = findRun(runId);
  return { name: run?.name ?? runId, step, config: { ...(run?.config ?? {}) } };
}

function dataInfo(runId: string, T: number, sequences: number): DashboardFile['data'] {
  return { label: findRun(runId)?.dataLabel ?? '', split: 'held-out', tokens_per_sequence: T, sequences };
}

/** The inspected feature as a dashboard file. */
export function dashboardFileOfInspector(d: InspectorData): DashboardFile {
  return dashboardFile({
    run: runInfo(d.runId, d.step),
    data: dataInfo(d.runId, d.trace.tokens.length, d.sequences),
    tokenText: d.tokenSource,
    context: contextNow(),
    dashboards: [d.dashboard],
  });
}

/** Dashboards of `features` of a run on its held-out data. */
export async function dashboardFileOfFeatures(runId: string, features: number[]): Promise<DashboardFile> {
  const { step, tokenText, dashboards, T, sequences } = await featureDashboards(runId, features);
  return dashboardFile({
    run: runInfo(runId, step),
    data: dataInfo(runId, T, sequences),
    tokenText,
    context: contextNow(),
    dashboards,
  });
}

/** Curves of the report: the training metrics that were logged. */
const REPORT_CURVES = ['loss', 'l_recon', 'l_sparse', 'l_temp', 'l0', 'dead_count', 'alpha', 'lr'] as const;

/** Features a report shows by default: the clustered features (most variable first), else 0…n−1. */
export function defaultReportFeatures(runId: string, n = 12): number[] {
  const latest = useAnalysisStore.getState().byRun[runId]?.latest;
  const clustered = latest?.clustering?.features ?? [];
  if (clustered.length) return clustered.slice(0, n);
  const m = findRun(runId)?.config.d_sae ?? 0;
  return Array.from({ length: Math.min(n, m) }, (_, i) => i);
}

/** A run's one-file HTML report with the dashboards of `features` (default: defaultReportFeatures). */
export async function runReportHtml(runId: string, features?: number[]): Promise<string> {
  const run = findRun(runId);
  if (!run) throw new Error(`No run ${runId}.`);
  const a = useAnalysisStore.getState().byRun[runId];
  const file = await dashboardFileOfFeatures(runId, features ?? defaultReportFeatures(runId));
  const c = a?.latest?.clustering ?? null;
  return buildHtmlReport({
    title: `${run.name} — TempoSAE report`,
    createdAt: new Date().toISOString(),
    config: { ...run.config },
    data: { label: run.dataLabel, tokenText: file.token_text.name },
    curves: REPORT_CURVES.filter((k) => run.history[k]?.length).map((k) => ({
      name: k,
      step: run.history.step,
      values: run.history[k],
    })),
    evals: (a?.evals ?? []).map((e) => ({
      step: e.step,
      metrics: { ...(e.metrics as unknown as Record<string, number>) },
    })),
    clustering: c
      ? { features: c.features, order: c.order, linkage: c.linkage, heatByPosition: c.heatByPosition }
      : null,
    dashboards: file,
  });
}
