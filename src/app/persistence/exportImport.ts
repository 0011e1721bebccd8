// Export and import in the browser (issue 7). Export: the run's SAE as a SAELens v6 folder in a .zip
// (weights from the live trainer, or from its last stored checkpoint when the page was reloaded; the
// firing densities of its latest held-out evaluation, if any), and the metric history as JSON/CSV.
// Import: a .zip or a dropped folder (SAELens v6 / pre-6, sparsify, TempoSAE) becomes a run in the
// run list with its stored history, ready to be evaluated, inspected and trained further.
import { buildSaeFolder, streamSaeWeights, WEIGHTS_FILE, type SaeTensorRead } from '../../io/exportSae';
import { ZipStreamWriter } from '../../io/zipStream';
import { historyToJson, rowsToCsv, type MetricHistory as IoHistory, type MetricRow } from '../../io/history';
import {
  importSaeFolder,
  stripCommonRoot,
  trainingInitFromImport,
  type ImportedSae,
} from '../../io/importSae';
import { unzipFolder } from '../../io/zip';
import { initialTrainerState } from '../../sae/init';
import { useAnalysisStore } from '../../store/analysisStore';
import { emptyHistory, findRun, METRIC_KEYS, useRunsStore, type RunRecord } from '../../store/runsStore';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { getLoadedData } from '../dataSession';
import { evaluateRun } from '../evaluation';
import { selectRunAndShowConfig } from '../trainActions';
import { createRun, getEngine, prepareRun, runIsBuilt, setRunRestore } from '../trainingLoop';
import { openRunCheckpoint, writeExportFile } from './persistence';
import { noteSaeHook } from '../lossRecoveredSession';

/** The run's metric history in the io format (train rows from the store, evaluations from analysis). */
export function runHistory(run: RunRecord): IoHistory {
  const n = run.history.step.length;
  const train: MetricRow[] = [];
  for (let i = 0; i < n; i++) {
    const row: MetricRow = {};
    for (const k of METRIC_KEYS) row[k] = run.history[k][i];
    train.push(row);
  }
  const evals = useAnalysisStore.getState().byRun[run.id]?.evals ?? [];
  const evalRows = evals.map((e) => {
    const row: MetricRow = { step: e.step, tokens_seen: e.tokensSeen };
    for (const [k, v] of Object.entries(e.metrics)) if (typeof v === 'number') row[k] = v;
    // Loss recovered with the model (issue 12), under the SAEBench names.
    // (Its own row count and wall time get a prefix: `ms` alone would read as the evaluation's.)
    for (const [k, v] of Object.entries(e.lossRecovered ?? {}))
      if (typeof v === 'number') row[k === 'rows' || k === 'ms' ? `loss_recovered_${k}` : k] = v;
    return row;
  });
  return { train, eval: evalRows };
}

export function historyFiles(run: RunRecord): { json: string; trainCsv: string; evalCsv: string } {
  const h = runHistory(run);
  return { json: historyToJson(h), trainCsv: rowsToCsv(h.train), evalCsv: rowsToCsv(h.eval) };
}

const safeName = (s: string) => s.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'run';

/**
 * The run's SAE folder as a .zip (SAELens v6 layout; see src/io/exportSae.ts), streamed: the weights file
 * goes one parameter at a time from the GPU (or from the stored checkpoint after a reload) into a zip in
 * browser storage (src/io/zipStream.ts), so a large SAE's export holds one tensor in this page's memory.
 * `bytes` is that file as a Blob, for the download.
 */
export async function exportRunZip(runId: string): Promise<{ name: string; bytes: Blob }> {
  const run = findRun(runId);
  if (!run) throw new Error(`No run ${runId}`);
  let read: SaeTensorRead;
  let scale: number;
  let step: number;
  let tokens: number;
  if (runIsBuilt(runId)) {
    // The engine reads each parameter back alone and transfers it (one tensor in this page at a time).
    const engine = getEngine();
    const counters = await engine.call('counters', { runId });
    read = (name) => engine.call('readParameter', { runId, name });
    step = counters.step;
    tokens = counters.tokens_seen;
    scale = counters.scale;
  } else {
    const ck = await openRunCheckpoint(runId);
    if (!ck) throw new Error(`“${run.name}” has no trained weights yet: train it first.`);
    read = (p) => ck.readTensor(p);
    step = ck.meta.step;
    tokens = ck.meta.tokens_seen;
    scale = ck.meta.scaling_factor;
  }
  const latest = useAnalysisStore.getState().byRun[runId]?.latest;
  const density =
    latest && latest.features.density.length === run.config.d_sae
      ? Float32Array.from(latest.features.density)
      : null;
  const files = buildSaeFolder({
    weights: null,
    config: run.config,
    scaling_factor: scale,
    density,
    steps: step,
    tokens_seen: tokens,
    // Data captured from a model in this page adds its model, hook and processing (dataSession).
    provenance: { dataset_path: run.dataLabel, ...getLoadedData(run.dataKey)?.provenance },
    run_name: run.name,
    history: runHistory(run),
  });
  const name = `${safeName(run.name)}-step${step}`;
  const bytes = await writeExportFile(`${name}.zip`, async (sink) => {
    const z = new ZipStreamWriter(sink);
    await z.add(`${name}/${WEIGHTS_FILE}`, (k) => streamSaeWeights(read, run.config, scale, k));
    for (const [f, b] of files) await z.add(`${name}/${f}`, async (k) => k.write(b));
    await z.finish();
  });
  return { name: `${name}.zip`, bytes };
}

/** Offer bytes as a download. */
export function downloadBytes(name: string, bytes: Uint8Array | string | Blob, mime: string): void {
  const blob = new Blob([bytes as BlobPart], { type: mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Read dropped files (a .zip, or the files of one SAE folder) into name → bytes. */
export async function readSaeFiles(
  files: { name: string; path: string; blob: Blob }[],
): Promise<Map<string, Uint8Array>> {
  if (files.length === 1 && /\.zip$/i.test(files[0].name))
    return unzipFolder(new Uint8Array(await files[0].blob.arrayBuffer()), files[0].name);
  const out = new Map<string, Uint8Array>();
  for (const f of files) out.set(f.path || f.name, new Uint8Array(await f.blob.arrayBuffer()));
  return stripCommonRoot(out);
}

/**
 * Add an imported SAE to the run list on the loaded data, with the history it carries, built on the
 * GPU and evaluated on the held-out split. It trains further (from step 0 of a fresh optimizer, in the
 * raw units its weights now take) when resumed. Returns the new run's id.
 */
export async function importSaeAsRun(
  files: Map<string, Uint8Array>,
  label: string,
): Promise<{ runId: string; imported: ImportedSae }> {
  const imp = importSaeFolder(files, label);
  const ws = useWorkspaceStore.getState();
  const key = ws.data.key;
  const data = key ? getLoadedData(key) : undefined;
  if (!key || !data) throw new Error('Load data first: an imported SAE is evaluated on the loaded data.');
  if (data.source.d !== imp.weights.d_in)
    throw new Error(
      `${label} reads ${imp.weights.d_in}-wide activations but the loaded data is ${data.source.d} wide.`,
    );
  // The exported weights take raw activations (scaling folded in): evaluate and train on raw data.
  const init = trainingInitFromImport({ ...imp, scaling_factor: 1 });
  const config = {
    ...imp.config,
    normalize_activations: 'none' as const,
    context_size: Math.min(imp.config.context_size, data.source.seqLen),
    doc_start_token_ids: data.implied.doc_start_token_ids ?? imp.config.doc_start_token_ids,
  };
  const runId = createRun({
    config,
    dataKey: key,
    dataLabel: data.summary.label,
    name: `${imp.name} (imported)`,
  });
  const history = emptyHistory();
  for (const row of imp.history?.train ?? []) for (const k of METRIC_KEYS) history[k].push(row[k] ?? NaN);
  const run = findRun(runId)!;
  useRunsStore.setState((s) => ({
    runs: s.runs.map((r) =>
      r.id === runId
        ? {
            ...run,
            status: 'paused',
            history,
            progress: { ...run.progress, step: imp.steps, tokensSeen: imp.tokens_seen },
          }
        : r,
    ),
  }));
  // Select it with its config in the panel, so Resume trains this run further.
  selectRunAndShowConfig(runId);
  // Loss recovered splices it in at its own hook: a capture at another hook is refused there.
  if (imp.provenance.hook_name) noteSaeHook(runId, imp.provenance.hook_name);
  // Steps continue from the file's count (the history it carries ends there); Adam starts fresh.
  const state = { ...initialTrainerState(init.weights), step: imp.steps, tokens_seen: imp.tokens_seen };
  setRunRestore(runId, async () => ({ dataKey: key, position: undefined, state }));
  if (await prepareRun(runId)) void evaluateRun(runId);
  return { runId, imported: { ...imp, warnings: [...imp.warnings, ...init.warnings] } };
}
