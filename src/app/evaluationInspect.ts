// The feature inspector's data (issues 6, 10): features' activations over the held-out sequences from
// the trainer's forward pass, made into dashboards by src/analysis/featureDashboard.ts, with the token
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
import { collectFeatures } from '../analysis/featureColumns';
import { nearestTrueFeature } from '../analysis/groundTruth';
import { nearestByDecoder } from '../analysis/inspector';
import { idsTokenText, type TokenText } from '../data/tokenText';
import { useAnalysisStore, type InspectorData } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { evalHandles, groundTruthOf, limitBatches, type EvalHandles } from './evaluation';
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

function checkFeatures(runId: string, features: number[]): EvalHandles & { m: number } {
  const run = findRun(runId);
  if (!run) throw new Error(`No run ${runId}.`);
  const m = run.config.d_sae;
  for (const f of features)
    if (!Number.isInteger(f) || f < 0 || f >= m)
      throw new Error(`Feature ${f} does not exist: this SAE has features 0–${m - 1}.`);
  const h = evalHandles(runId);
  if (typeof h === 'string') throw new Error(h);
  return { ...h, m };
}

// The last single feature read (a new sequence or options redraw without another forward pass).
let lastHeld: { key: string; trainer: object; held: HeldOutFeatures } | null = null;

/** Run the held-out batches forward once and keep the activations of `features`. */
export async function heldOutFeatures(runId: string, features: number[]): Promise<HeldOutFeatures> {
  const h = checkFeatures(runId, features);
  const step = h.trainer.step;
  const key = `${runId}|${features.join(',')}|${step}`;
  if (lastHeld?.key === key && lastHeld.trainer === h.trainer) return lastHeld.held;
  const c = await collectFeatures(limitBatches(h.batcher), (b) => h.trainer.forward(b), h.m, features);
  if (c.sequences === 0) throw new Error('The held-out split is empty.');
  const held = { step, ...c };
  // Kept only while the trainer has not moved on (a running run's features change every step).
  if (features.length === 1 && h.trainer.step === step) lastHeld = { key, trainer: h.trainer, held };
  return held;
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
  const h = checkFeatures(runId, [feature]);
  const held = await heldOutFeatures(runId, [feature]);
  const fv = held.columns[0];
  const tokenText = tokenTextOfRun(runId) ?? idsTokenText();
  const dash = buildFeatureDashboard(feature, fv, tokenText, useAnalysisStore.getState().inspectorOptions);
  const { T, sequences } = held;
  let strongest = 0;
  if (dash.top.length) strongest = dash.top[0].sequence;
  const seq = sequence !== null && sequence >= 0 && sequence < sequences ? sequence : strongest;
  const W = await h.trainer.getWeights();
  let trueFeature: InspectorData['trueFeature'] = null;
  const gt = groundTruthOf(h.batcher);
  if (gt) {
    const row = W.W_dec.subarray(feature * W.d_in, (feature + 1) * W.d_in);
    const t = nearestTrueFeature(gt.trueDictionary, gt.F, row, 1, W.d_in);
    trueFeature = { index: t.index[0], cos: t.cos[0] };
  }
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
    nearest: nearestByDecoder(W.W_dec, W.d_sae, W.d_in, feature),
    trueFeature,
  };
}
