// The one-click methods experiment in the app (issue 14): the plan of src/analysis/experimentPlan.ts
// (the same one `experiment --config` runs), trained one run after another through the page's run
// machinery (createRun / startRun / whenIdle, and evaluationSettled for each run's final evaluation),
// so every run is an ordinary run of the run list, saved and resumable like any other.
//
// The experiment's record (its config, the data it uses, which run stands for which method and seed,
// each finished run's outcome and each finished L0 search) is kept in localStorage as it changes. After
// a reload the experiment comes back 'interrupted'; Resume goes on where it was: finished runs are read
// from the record, not trained again, and the run that was training continues from its checkpoint.
// The table only ever holds the final held-out evaluations of runs of this record.
import { create } from 'zustand';
import {
  experimentReport,
  experimentRunOf,
  methodOf,
  parseExperimentConfig,
  runExperiment,
  type ExperimentConfig,
  type ExperimentReport,
  type L0Search,
  type MethodPick,
  type RunOutcome,
  type RunRequest,
} from '../analysis/experimentPlan';
import { runDefaults } from '../engine/defaults';
import type { SyntheticPreset } from '../data/synthetic';
import { tokensPerStep, validateConfig, type TrainConfig } from '../sae/config';
import { useAnalysisStore } from '../store/analysisStore';
import { useAppStore } from '../store/appStore';
import { findRun, useRunsStore } from '../store/runsStore';
import { useStorageStore } from './persistence/storageStore';
import { evaluationSettled } from './evaluation';
import { getLoadedData } from './dataSession';
import { dataRefOf, ensureDataLoaded, type DataRef } from './persistence/dataRef';
import { pauseRun, resetRun, createRun, startRun, whenIdle } from './trainingLoop';

export type ExperimentStatus = 'running' | 'pausing' | 'paused' | 'interrupted' | 'done' | 'error';

export interface ExperimentItem {
  /** The run trained for this request. */
  runId: string;
  method: string;
  seed: number;
  kind: RunRequest['kind'];
  label: string;
  /** Its outcome, once it finished with a final evaluation. */
  outcome?: RunOutcome;
}

export interface ExperimentRecord {
  id: string;
  config: ExperimentConfig;
  dataRef: DataRef | null;
  dataLabel: string;
  status: ExperimentStatus;
  error: string | null;
  /** By request key (requestKey), in the order they were started. */
  items: Record<string, ExperimentItem>;
  searches: Record<string, L0Search>;
  /** The request in progress. */
  current: string | null;
  /** Runs planned so far (searches' probes and method × seed). */
  total: number;
  report: ExperimentReport | null;
  log: string[];
}

interface ExperimentState {
  record: ExperimentRecord | null;
}

export const useExperimentStore = create<ExperimentState>()(() => ({ record: null }));

export const EXPERIMENT_STORAGE_KEY = 'temposae.experiment';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

let saveWarned = false;

function save(r: ExperimentRecord | null): void {
  useExperimentStore.setState({ record: r });
  const s = storage();
  if (!s) return;
  try {
    if (r) s.setItem(EXPERIMENT_STORAGE_KEY, JSON.stringify(r));
    else s.removeItem(EXPERIMENT_STORAGE_KEY);
  } catch (e) {
    // Most likely the storage quota (each finished run keeps its by-position means): say so, once.
    if (!saveWarned)
      useAppStore.getState().postMessage({
        level: 'warning',
        title: 'The experiment could not be saved',
        detail: `${e instanceof Error ? e.message : String(e)} It goes on in this page, but a reload would lose its record (the runs themselves stay saved).`,
      });
    saveWarned = true;
  }
}

function update(patch: Partial<ExperimentRecord>): ExperimentRecord {
  const r = useExperimentStore.getState().record;
  if (!r) throw new Error('No experiment.');
  const next = { ...r, ...patch };
  save(next);
  return next;
}

/** A request's key in the record. */
export function requestKey(req: Pick<RunRequest, 'kind' | 'method' | 'seed' | 'probe'>): string {
  return req.kind === 'probe' ? `probe|${req.method}|${req.probe}` : `run|${req.method}|${req.seed}`;
}

/** Bring the saved experiment back (startup): one that was running is 'interrupted' until resumed. */
export function installExperiments(): void {
  const s = storage();
  const text = s?.getItem(EXPERIMENT_STORAGE_KEY);
  if (!text) return;
  try {
    const r = JSON.parse(text) as ExperimentRecord;
    if (!r || typeof r !== 'object' || !r.config || !r.items) throw new Error('not an experiment record');
    // The config is checked again, as a file would be.
    r.config = parseExperimentConfig(r.config, 'the saved experiment');
    const live = r.status === 'running' || r.status === 'pausing';
    save({ ...r, status: live ? 'interrupted' : r.status, current: live ? r.current : null });
  } catch (e) {
    console.warn(`the saved experiment could not be read (${(e as Error).message}); it is dropped`);
    s?.removeItem(EXPERIMENT_STORAGE_KEY);
  }
}

// ---------------------------------------------------------------------------------------------------
// The config the panel's choices make

export interface ExperimentChoices {
  name: string;
  /** The loaded data the runs train on (the workspace's data key). */
  dataKey: string;
  /** Every run's settings besides what the method sets: the Train panel's draft. */
  draft: TrainConfig;
  picks: MethodPick[];
  seeds: number[];
  trainingTokens: number;
  /** Matched L0: λ1 searched (ReLU, JumpReLU) or k set (TopK, BatchTopK), as the registry says. */
  targetL0?: number;
  l0Search: { steps: number; probes: number };
}

/** The experiment file for these choices: what the panel runs and what `experiment --config` runs too. */
export function experimentConfigFor(c: ExperimentChoices): ExperimentConfig {
  const ref = dataRefOf(c.dataKey);
  if (!ref) throw new Error('Load data first (the Train tab’s data panel).');
  if (!c.picks.length) throw new Error('Pick at least one method.');
  const { seed: _seed, ...base } = c.draft;
  const json = {
    name: c.name || 'TempoSAE experiment',
    // Files: their names as the page read them (the CLI needs them next to the experiment file).
    ...(ref.kind === 'builtin'
      ? { dataset: `builtin:${ref.preset}` }
      : {
          data: getLoadedData(c.dataKey)?.summary.files.length
            ? getLoadedData(c.dataKey)!.summary.files
            : [ref.label],
        }),
    seeds: c.seeds,
    training_tokens: c.trainingTokens,
    base,
    methods: c.picks.map((p) => methodOf(p, c.targetL0)),
    ...(c.picks.some((p) => methodOf(p, c.targetL0).target_l0 !== undefined)
      ? { l0_search: c.l0Search }
      : {}),
  };
  return parseExperimentConfig(json, 'the experiment');
}

// ---------------------------------------------------------------------------------------------------
// Driving it

let driving: Promise<void> | null = null;
let stopRequested = false;

/** Start a new experiment with this config on this data (an experiment in progress must end first). */
export function startExperiment(config: ExperimentConfig, dataKey: string): Promise<void> {
  const old = useExperimentStore.getState().record;
  if (driving || (old && (old.status === 'running' || old.status === 'pausing')))
    throw new Error('An experiment is running: pause it first.');
  const data = getLoadedData(dataKey);
  if (!data) throw new Error('Load data first.');
  save({
    id: `exp-${Date.now().toString(36)}`,
    config,
    dataRef: dataRefOf(dataKey),
    dataLabel: data.summary.label,
    status: 'running',
    error: null,
    items: {},
    searches: {},
    current: null,
    total: 0,
    report: null,
    log: [],
  });
  return drive();
}

/** Continue a paused or interrupted experiment. */
export function resumeExperiment(): Promise<void> {
  const r = useExperimentStore.getState().record;
  if (!r || driving) return driving ?? Promise.resolve();
  if (r.status === 'done') return Promise.resolve();
  update({ status: 'running', error: null });
  return drive();
}

/** Pause: the run in training pauses (its checkpoint is kept); Resume goes on from there. */
export async function pauseExperiment(): Promise<void> {
  const r = useExperimentStore.getState().record;
  if (!r || !driving) return;
  stopRequested = true;
  update({ status: 'pausing' });
  const cur = r.current ? r.items[r.current] : undefined;
  if (cur) await pauseRun(cur.runId);
  await driving;
}

/** Forget the experiment (its runs stay in the run list). */
export async function discardExperiment(): Promise<void> {
  if (driving) await pauseExperiment();
  save(null);
}

/** When the driver in progress (if any) has returned. */
export function experimentSettled(): Promise<void> {
  return driving ?? Promise.resolve();
}

function drive(): Promise<void> {
  stopRequested = false;
  const p = (async () => {
    const r = useExperimentStore.getState().record!;
    const x = r.config;
    const preset = r.dataRef?.kind === 'builtin' ? (r.dataRef.preset as SyntheticPreset) : undefined;
    const total =
      x.methods.filter((m) => m.target_l0 !== undefined).length * x.l0_search.probes +
      x.methods.length * x.seeds.length;
    update({ total });
    try {
      const report = await runExperiment(x, {
        train: trainRequest,
        loadSearch: (m) => useExperimentStore.getState().record?.searches[m.name] ?? null,
        saveSearch: (m, s) => {
          const cur = useExperimentStore.getState().record!;
          update({ searches: { ...cur.searches, [m.name]: s } });
        },
        dataDefaultL1: runDefaults(0, preset).l1_coefficient,
        log: (line) => {
          const cur = useExperimentStore.getState().record!;
          update({ log: [...cur.log, line].slice(-50) });
        },
        stopped: () => stopRequested,
      });
      const cur = useExperimentStore.getState().record;
      if (!cur) return;
      if (report) update({ status: 'done', report, current: null });
      else if (cur.status !== 'error') update({ status: 'paused' });
    } catch (e) {
      if (useExperimentStore.getState().record) update({ status: 'error', error: (e as Error).message });
    }
  })().finally(() => {
    driving = null;
  });
  driving = p;
  return p;
}

/** A run's config: the data's defaults under the request's fields (as `train --config` builds it). */
function configOf(req: RunRequest, r: ExperimentRecord, dataKey: string): TrainConfig {
  const data = getLoadedData(dataKey)!;
  const preset = r.dataRef?.kind === 'builtin' ? (r.dataRef.preset as SyntheticPreset) : undefined;
  const cfg = { ...runDefaults(data.source.d, preset), ...req.config } as TrainConfig;
  if (req.steps !== undefined) cfg.training_tokens = req.steps * tokensPerStep(cfg);
  const problems = validateConfig(cfg);
  if (problems.length) throw new Error(`${req.label}: ${problems.join('; ')}`);
  return cfg;
}

/** The run of a saved item after a reload (the saved runs are restored while the page starts). */
async function savedRun(runId: string): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (findRun(runId)) return true;
    if (useStorageStore.getState().kind === 'memory' && waited > 0) return false;
    await new Promise((res) => setTimeout(res, 100));
  }
  return false;
}

function fail(message: string): null {
  update({ status: 'error', error: message });
  return null;
}

/** Train (or read back) one request's run; its outcome, or null (paused, stopped or failed). */
async function trainRequest(req: RunRequest): Promise<RunOutcome | null> {
  const key = requestKey(req);
  let r = useExperimentStore.getState().record!;
  const known = r.items[key];
  if (known?.outcome) return known.outcome;
  let runId = known && (await savedRun(known.runId)) ? known.runId : null;
  if (!runId) {
    let dataKey: string;
    try {
      dataKey = ensureDataLoaded(r.dataRef, r.config.name);
    } catch (e) {
      return fail((e as Error).message);
    }
    const config = configOf(req, r, dataKey);
    runId = createRun({
      config,
      dataKey,
      dataLabel: getLoadedData(dataKey)!.summary.label,
      name: req.label,
    });
    r = useExperimentStore.getState().record!;
    update({
      items: {
        ...r.items,
        [key]: { runId, method: req.method, seed: req.seed, kind: req.kind, label: req.label },
      },
    });
  }
  update({ current: key });
  useRunsStore.getState().selectRun(runId);
  for (let attempt = 0; attempt < 2; attempt++) {
    const before = findRun(runId);
    if (!before) return fail(`The run “${req.label}” was deleted; discard the experiment or start it again.`);
    if (before.status === 'ready' || before.status === 'paused') {
      await startRun(runId);
      // Paused while the run was being built: it pauses as soon as it trains.
      if (stopRequested) await pauseRun(runId);
    }
    await whenIdle(runId);
    await evaluationSettled(runId);
    const run = findRun(runId);
    if (!run) return fail(`The run “${req.label}” was deleted; discard the experiment or start it again.`);
    if (run.status === 'error') return fail(`${req.label}: ${run.error}`);
    if (run.status === 'paused') return null; // the experiment was paused
    if (run.status !== 'done')
      return fail(`${req.label} was ${run.status} before its end; reset it in the run list, then resume.`);
    const ev = useAnalysisStore.getState().byRun[runId]?.evals.at(-1);
    const last = run.history.step.at(-1);
    if (ev && last !== undefined && ev.step === last) {
      const outcome: RunOutcome = {
        run: experimentRunOf(
          req.method,
          req.seed,
          run.history.tokens_seen.at(-1),
          { ...ev.metrics },
          ev.prefixes,
        ),
        byPosition: { ...ev.byPosition },
      };
      const cur = useExperimentStore.getState().record!;
      update({ items: { ...cur.items, [key]: { ...cur.items[key], outcome } } });
      return outcome;
    }
    // Finished, but its final evaluation did not survive (a reload at the wrong moment): train it again
    // from the start (same config and seed: the same numbers).
    if (attempt === 0) await resetRun(runId);
  }
  return fail(`${req.label} finished without a final held-out evaluation (is there held-out data?).`);
}

/** The report of the record's finished runs so far (the table grows as runs finish). */
export function partialReport(r: ExperimentRecord): ExperimentReport | null {
  const done = Object.values(r.items).filter((i) => i.kind === 'run' && i.outcome);
  if (!done.length) return null;
  // In plan order (methods × seeds), as the final report has them.
  const order = r.config.methods.flatMap((m) => r.config.seeds.map((s) => `${m.name}|${s}`));
  done.sort((a, b) => order.indexOf(`${a.method}|${a.seed}`) - order.indexOf(`${b.method}|${b.seed}`));
  return experimentReport(
    r.config,
    done.map((i) => i.outcome!),
    r.searches,
  );
}
