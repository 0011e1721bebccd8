// The SAE spliced back into the model (issue 12, SPEC §10): loss recovered over a run's held-out rows and
// the live probe, for any run the app holds with trained weights in this page (trained here or an
// imported SAELens folder). The model is the one the model panel loaded (src/app/modelSession.ts); the
// hook and the TransformerLens processing are those of the run's captured data. The maths and the GPU
// passes are src/lm/gpu/lossRecovered.ts; the result is stored with the run's evaluation record
// (src/store/analysisStore.ts), so it is saved with the evaluation history and exported with it.
import { ignoredTokenIds, type LossRecoveredMetrics, type ProbeToken } from '../lm/lossRecovered';
import { evaluateLossRecovered, probeText, steerGreedy, type HeldSae } from '../lm/gpu/lossRecovered';
import type { LanguageModel } from '../lm/types';
import type { LmTokenizer } from '../lm/tokenizer/types';
import { useAnalysisStore, type LossRecoveredRecord } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { getLoadedData } from './dataSession';
import { evaluateRun, needBuilt } from './evaluation';
import { initGpu } from './gpuSession';
import { loadedModel } from './modelSession';
import { getEngine } from './trainingLoop';

/** Held-out rows evaluated at most (the run's held-out batches, in order, up to this many rows). */
export const LOSS_RECOVERED_MAX_ROWS = 256;

interface Splice {
  model: LanguageModel;
  tokenizer: LmTokenizer;
  modelName: string;
  hook: string;
  center: boolean;
  sae: HeldSae;
  ignore: number[];
  T: number;
}

// The hook named by an imported SAE's own cfg.json (this page only; after a reload the data's hook is used).
const saeHooks = new Map<string, string>();

/** Records the hook an imported SAE was trained at (src/app/persistence/exportImport.ts importSaeAsRun). */
export function noteSaeHook(runId: string, hook: string): void {
  saeHooks.set(runId, hook);
}

/** What splicing the run's SAE into the loaded model needs, or why it cannot be done (thrown, in words). */
async function splice(runId: string): Promise<Splice> {
  const run = findRun(runId);
  if (!run) throw new Error(`No run ${runId}.`);
  const lm = loadedModel();
  if (!lm)
    throw new Error('Load a language model first (Train tab → model panel: drop the model and tokenizer).');
  const prov = getLoadedData(run.dataKey)?.provenance;
  const hook = prov?.hook_name;
  if (!hook)
    throw new Error(
      `The run's data (${run.dataLabel}) names no model hook: loss recovered needs data captured from the loaded model.`,
    );
  const own = saeHooks.get(runId);
  if (own && own !== hook)
    throw new Error(
      `This SAE was trained at ${own} (its cfg.json), the run's data was captured at ${hook}: capture at ${own} to evaluate it.`,
    );
  if (run.config.d_in !== lm.model.config.d_model)
    throw new Error(
      `The SAE reads ${run.config.d_in}-wide activations, ${lm.name} is ${lm.model.config.d_model} wide.`,
    );
  needBuilt(runId);
  // The weights come from the engine (a copy; the model runs on the page's device).
  const { weights, cfg, scale } = await getEngine().call('weights', { runId });
  const center = prov?.model_from_pretrained_kwargs?.center_writing_weights === true;
  const t = lm.tokenizer;
  return {
    model: lm.model,
    tokenizer: t,
    modelName: lm.name,
    hook,
    center,
    // Weights act on s·x (s = the batcher's scale; 1 for raw activations, as imported folders take).
    sae: { weights, config: cfg, scaling_factor: scale },
    ignore: ignoredTokenIds({ bos_token_id: t.bosId, eos_token_id: t.eosId, pad_token_id: t.padId }),
    T: run.config.context_size,
  };
}

/** The token ids of the run's held-out rows (up to `maxRows`), [R·T], read by the engine. */
function heldOutIds(runId: string, maxRows: number): Promise<{ ids: Int32Array; T: number }> {
  needBuilt(runId);
  return getEngine().call('heldOutIds', { runId, maxRows });
}

const controllers = new Map<string, AbortController>();
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Evaluate loss recovered of a run's SAE over its held-out rows with the loaded model; the result goes
 * onto the run's latest evaluation record (evaluated first when it has none). Resolves when done,
 * stopped or failed (the failure is in the store's lossRecovered[runId].error).
 */
export async function evaluateWithModel(runId: string, maxRows = LOSS_RECOVERED_MAX_ROWS): Promise<void> {
  const st = useAnalysisStore.getState();
  if (controllers.has(runId)) return;
  const ctl = new AbortController();
  controllers.set(runId, ctl);
  st.lossRecoveredProgress(runId, { running: true, rowsDone: 0, rows: 0, error: null });
  const t0 = performance.now();
  try {
    const sp = await splice(runId);
    if (!useAnalysisStore.getState().byRun[runId]?.evals.length) await evaluateRun(runId);
    const evals = useAnalysisStore.getState().byRun[runId]?.evals ?? [];
    if (!evals.length) throw new Error('The run has no held-out evaluation to attach the result to.');
    const step = evals[evals.length - 1].step;
    const { ids, T } = await heldOutIds(runId, maxRows);
    ctl.signal.throwIfAborted();
    const gpu = await initGpu();
    const m: LossRecoveredMetrics = await evaluateLossRecovered(gpu, sp.model, sp.hook, sp.sae, ids, T, {
      batchRows: Math.min(8, sp.sae.config.seqs_per_batch),
      ignore: sp.ignore,
      center: sp.center,
      signal: ctl.signal,
      onBatch: (rowsDone, rows) =>
        useAnalysisStore
          .getState()
          .lossRecoveredProgress(runId, { running: true, rowsDone, rows, error: null }),
    });
    ctl.signal.throwIfAborted();
    const record: LossRecoveredRecord = {
      ...m,
      model: sp.modelName,
      hook: sp.hook,
      rows: ids.length / T,
      ms: performance.now() - t0,
    };
    useAnalysisStore.getState().lossRecoveredRecorded(runId, step, record);
  } catch (e) {
    const error = ctl.signal.aborted ? 'Stopped: loss recovered was not stored.' : messageOf(e);
    useAnalysisStore.getState().lossRecoveredProgress(runId, { running: false, rowsDone: 0, rows: 0, error });
  } finally {
    controllers.delete(runId);
  }
}

/** Stop a loss-recovered evaluation in progress (it frees its GPU objects before the next batch). */
export function stopLossRecovered(runId: string): void {
  controllers.get(runId)?.abort(new Error('stopped'));
}

/** The live probe's result for one typed text. */
export interface ProbeResult {
  tokens: (ProbeToken & { text: string })[];
  hook: string;
  model: string;
}

/** Tokenize `text` (BOS first when the run's data was captured with it) and probe the run's SAE on it. */
export async function probeRun(runId: string, text: string, topK = 6): Promise<ProbeResult> {
  const sp = await splice(runId);
  const prov = getLoadedData(findRun(runId)!.dataKey)?.provenance;
  const bos = prov?.prepend_bos !== false && sp.tokenizer.bosId !== null ? [sp.tokenizer.bosId] : [];
  const ids = Int32Array.from([...bos, ...sp.tokenizer.encode(text)].slice(0, sp.model.config.n_ctx));
  if (ids.length < 2) throw new Error('Type at least one word: the probe needs two tokens.');
  const gpu = await initGpu();
  const rows = await probeText(gpu, sp.model, sp.hook, sp.sae, ids, {
    ignore: sp.ignore,
    center: sp.center,
    topK,
  });
  const tt = sp.tokenizer.tokenText;
  return { tokens: rows.map((r) => ({ ...r, text: tt.text(r.id) })), hook: sp.hook, model: sp.modelName };
}

/** Greedy continuation of `text` with α·W_dec[feature] added at the hook (α = 0: the model's own). */
export async function steerRun(
  runId: string,
  text: string,
  feature: number,
  alpha: number,
  steps: number,
): Promise<string> {
  const sp = await splice(runId);
  const bos = sp.tokenizer.bosId !== null ? [sp.tokenizer.bosId] : [];
  const ids = Int32Array.from([...bos, ...sp.tokenizer.encode(text)]);
  const gpu = await initGpu();
  const out = await steerGreedy(gpu, sp.model, sp.hook, sp.sae, ids, {
    feature,
    alpha,
    steps,
    stopAt: sp.ignore,
  });
  return sp.tokenizer.decode(out);
}
