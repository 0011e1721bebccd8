// The feature inspector's data (issue 6): one feature's activations over the held-out sequences from
// the trainer's forward pass, summarized by src/analysis/inspector.ts, with token text from the data
// (the built-in dataset names its tokens; files show token ids unless a tokenizer is known).
import { nearestTrueFeature } from '../analysis/groundTruth';
import { nearestByDecoder, summarizeFeature } from '../analysis/inspector';
import { useAnalysisStore, type FeatureContext, type InspectorData } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { evalHandles, groundTruthOf, limitBatches } from './evaluation';

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

async function loadFeature(runId: string, feature: number, sequence: number | null): Promise<InspectorData> {
  const run = findRun(runId);
  if (!run) throw new Error(`No run ${runId}.`);
  const m = run.config.d_sae;
  if (!Number.isInteger(feature) || feature < 0 || feature >= m)
    throw new Error(`Feature ${feature} does not exist: this SAE has features 0–${m - 1}.`);
  const h = evalHandles(runId);
  if (typeof h === 'string') throw new Error(h);
  const step = h.trainer.step;
  const vals: Float32Array[] = [],
    valids: Uint8Array[] = [],
    ids: (Int32Array | undefined)[] = [];
  let T = 0;
  for await (const b of limitBatches(h.batcher)) {
    const r = await h.trainer.forward(b);
    T = b.T;
    const N = b.S * b.T;
    const v = new Float32Array(N);
    for (let n = 0; n < N; n++) v[n] = r.f[n * m + feature];
    vals.push(v);
    valids.push(b.valid);
    ids.push(b.tokenIds);
  }
  const N = vals.reduce((s, v) => s + v.length, 0);
  if (N === 0) throw new Error('The held-out split is empty.');
  const values = new Float32Array(N),
    valid = new Uint8Array(N),
    tokenIds = new Int32Array(N).fill(-1);
  let o = 0;
  vals.forEach((v, k) => {
    values.set(v, o);
    valid.set(valids[k], o);
    if (ids[k]) tokenIds.set(ids[k]!, o);
    o += v.length;
  });
  const gt = groundTruthOf(h.batcher);
  const text = (n: number) => {
    const id = tokenIds[n];
    if (!valid[n]) return '␀';
    if (id < 0) return '·';
    return gt?.tokenText ? gt.tokenText(id) : `[${id}]`;
  };
  const sum = summarizeFeature({ values, valid, T });
  const sequences = N / T;
  const seq = sequence !== null && sequence >= 0 && sequence < sequences ? sequence : sum.strongestSequence;
  const slice = (s: number, from: number, to: number) => {
    const tokens: string[] = [],
      vs: number[] = [];
    for (let t = from; t < to; t++) {
      tokens.push(text(s * T + t));
      vs.push(values[s * T + t]);
    }
    return { tokens, values: vs };
  };
  const W = await h.trainer.getWeights();
  const topContexts: FeatureContext[] = sum.contexts.map((c) => ({
    value: c.value,
    sequence: c.sequence,
    position: c.position,
    center: c.position - c.from,
    ...slice(c.sequence, c.from, c.to),
  }));
  let trueFeature: InspectorData['trueFeature'] = null;
  if (gt) {
    const row = W.W_dec.subarray(feature * W.d_in, (feature + 1) * W.d_in);
    const t = nearestTrueFeature(gt.trueDictionary, gt.F, row, 1, W.d_in);
    trueFeature = { index: t.index[0], cos: t.cos[0] };
  }
  return {
    runId,
    feature,
    step,
    density: sum.density,
    meanActive: sum.meanActive,
    maxActivation: sum.max,
    trace: { sequence: seq, ...slice(seq, 0, T) },
    sequences,
    topContexts,
    histogram: sum.histogram,
    nearest: nearestByDecoder(W.W_dec, W.d_sae, W.d_in, feature),
    trueFeature,
  };
}
