// The feature inspector's data (issues 6, 10): features' activations over the held-out sequences from
// the trainer's forward pass (collected in the engine: src/engine/engineHost.ts collectFeatures), made
// into dashboards by src/analysis/featureDashboard.ts, with the token
// text of the run's data (src/app/tokenTextSession.ts: the built-in vocabulary, a dropped vocabulary or
// tokenizer, whichever the data has; ids only when it has none). The same dashboards feed the exports
// and the HTML report.
import {
  buildFeatureDashboard,
  tokenCells,
  type DashboardOptions,
  type FeatureDashboard,
  type FeatureTokens,
} from '../analysis/featureDashboard';
import { idsTokenText, type TokenText } from '../data/tokenText';
import { useAnalysisStore, type InspectorData } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { needBuilt } from './evaluation';
import { getEngine } from './trainingLoop';
import { tokenTextOfRun } from './tokenTextSession';

let request = 0;

/** Open a feature in the inspector and fill it from the run's held-out data. */
export async function inspectFeature(
  runId: string,
  feature: number,
  sequence: number | null = null,
): Promise<void> {
  const store = useAnalysisStore.getState();
  store.openFeature(runId, feature, sequence);
  const mine = ++request;
  try {
    const data = await loadFeature(runId, feature, sequence);
    if (mine === request) useAnalysisStore.getState().inspectorLoaded(data);
  } catch (e) {
    if (mine === request)
      useAnalysisStore.getState().inspectorFailed(e instanceof Error ? e.message : String(e));
  }
}

/** Held-out activations of some features of a run, with the positions' validity, starts and ids. */
export interface HeldOutFeatures {
  step: number;
  T: number;
  /** One FeatureTokens per feature asked for (they share valid, start and ids). */
  columns: FeatureTokens[];
  sequences: number;
}

function checkFeatures(runId: string, features: number[]): void {
  const run = findRun(runId);
  if (!run) throw new Error(`No run ${runId}.`);
  const m = run.config.d_sae;
  for (const f of features)
    if (!Number.isInteger(f) || f < 0 || f >= m)
      throw new Error(`Feature ${f} does not exist: this SAE has features 0–${m - 1}.`);
  needBuilt(runId);
}

/**
 * Run the held-out batches forward once and keep the activations of `features` (in the engine, which
 * keeps the last single feature's columns for a redraw while the trainer has not moved on).
 */
export async function heldOutFeatures(runId: string, features: number[]): Promise<HeldOutFeatures> {
  checkFeatures(runId, features);
  return getEngine().call('collectFeatures', { runId, features });
}

/** Dashboards of `features` on the run's held-out data, with the data's token text. */
export async function featureDashboards(
  runId: string,
  features: number[],
  opts: DashboardOptions = {},
): Promise<{
  step: number;
  tokenText: TokenText;
  dashboards: FeatureDashboard[];
  T: number;
  sequences: number;
}> {
  const held = await heldOutFeatures(runId, features);
  const tokenText = tokenTextOfRun(runId) ?? idsTokenText();
  const o = { ...useAnalysisStore.getState().inspectorOptions, ...opts };
  const dashboards = features.map((f, k) => buildFeatureDashboard(f, held.columns[k], tokenText, o));
  return { step: held.step, tokenText, dashboards, T: held.T, sequences: held.sequences };
}

async function loadFeature(runId: string, feature: number, sequence: number | null): Promise<InspectorData> {
  const held = await heldOutFeatures(runId, [feature]);
  const fv = held.columns[0];
  const tokenText = tokenTextOfRun(runId) ?? idsTokenText();
  const dash = buildFeatureDashboard(feature, fv, tokenText, useAnalysisStore.getState().inspectorOptions);
  const { T, sequences } = held;
  let strongest = 0;
  if (dash.top.length) strongest = dash.top[0].sequence;
  const seq = sequence !== null && sequence >= 0 && sequence < sequences ? sequence : strongest;
  // The nearest decoder rows and true feature are computed where the weights are (the engine).
  const { nearest, trueFeature } = await getEngine().call('neighbours', { runId, feature });
  return {
    runId,
    feature,
    step: held.step,
    density: dash.density,
    meanActive: dash.meanActive,
    maxActivation: dash.max,
    trace: { sequence: seq, tokens: tokenCells(fv, tokenText, seq, 0, T) },
    sequences,
    tokenSource: { name: tokenText.name, kind: tokenText.kind },
    dashboard: dash,
    topContexts: dash.top,
    histogram: dash.histogram,
    nearest,
    trueFeature,
  };
}
