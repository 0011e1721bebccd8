// The experiment's plan (issue 14), one module for the CLI (`experiment --config FILE.json`,
// src/cli/experimentCommand.ts) and the app (src/app/experimentSession.ts): the config file's checks,
// the methods × seeds to train at one token budget, the matched-L0 search, the run → ExperimentRun
// mapping and the table.json report. Pure: whoever drives it trains the runs (the CLI in run folders,
// the app through its run machinery) and keeps what is done, so both give the same table for the same
// config and seeds.
//
// Matched L0, asked of the architecture registry (never of an architecture's name):
//   - an architecture with a sparsity term (ReLU's L1, JumpReLU's L0) reaches a target L0 through its
//     coefficient λ1: short runs of the first seed ("l0_search": { "steps": 200, "probes": 6 }); L0 falls
//     as λ1 grows, so λ1 ×4 (or ÷4) until the target is bracketed, then geometric bisection; the probe
//     whose held-out L0 is closest to the target in log terms gives λ1 for every seed of that method;
//   - an architecture without one whose config has `k` (TopK, BatchTopK, …) fixes L0 by k.
import { ARCHITECTURE_IDS, architectureOf, isArchitecture } from '../sae/architectures';
import { DEFAULT_CONFIG, type Architecture } from '../sae/config';
import {
  experimentByPosition,
  experimentTable,
  prefixEvMetric,
  type ExperimentByPosition,
} from './experimentTable';
import type { ExperimentRun, ExperimentTable } from './experimentTable';

/** A problem with an experiment file, naming the file and the field (the CLI shows it as a usage error). */
export class ExperimentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExperimentConfigError';
  }
}

export interface ExperimentMethod {
  name: string;
  config: Record<string, unknown>;
  target_l0?: number;
}

export interface ExperimentConfig {
  name: string;
  dataset?: string;
  data?: string[];
  data_seq_len?: number;
  hook_name?: string;
  seeds: number[];
  training_tokens?: number;
  base: Record<string, unknown>;
  methods: ExperimentMethod[];
  /** Matched L0 for methods with target_l0: short runs at these settings. */
  l0_search: { steps: number; probes: number };
  train_flags: string[];
  metrics?: string[];
  level: number;
}

const KNOWN = new Set([
  'name',
  'dataset',
  'data',
  'data_seq_len',
  'hook_name',
  'seeds',
  'training_tokens',
  'base',
  'methods',
  'train_flags',
  'metrics',
  'level',
  'l0_search',
]);

export const DEFAULT_L0_SEARCH = { steps: 200, probes: 6 };

/** How an architecture reaches a chosen L0 (the registry's answer). */
export type L0Control =
  { kind: 'search'; coefficient: 'l1_coefficient' } | { kind: 'fixed'; key: 'k' } | { kind: 'none' };

export function l0Control(arch: Architecture): L0Control {
  const spec = architectureOf(arch);
  const sparse = spec.lossTerms({ ...DEFAULT_CONFIG, architecture: arch }).find((t) => t.id === 'sparse');
  if (sparse) return { kind: 'search', coefficient: sparse.coefficient };
  if (spec.configKeys.includes('k')) return { kind: 'fixed', key: 'k' };
  return { kind: 'none' };
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and check an experiment file's JSON; every problem names the file and the field. */
export function parseExperimentConfig(json: unknown, file: string): ExperimentConfig {
  const fail = (msg: string): never => {
    throw new ExperimentConfigError(`${file}: ${msg}`);
  };
  if (!isObj(json)) fail('must hold a JSON object');
  const j = json as Record<string, unknown>;
  for (const k of Object.keys(j)) if (!KNOWN.has(k)) fail(`unknown field '${k}'`);
  if ((j.dataset === undefined) === (j.data === undefined)) fail("give exactly one of 'dataset' and 'data'");
  if (j.dataset !== undefined && typeof j.dataset !== 'string') fail("'dataset' must be a string");
  if (
    j.data !== undefined &&
    (!Array.isArray(j.data) || !j.data.length || j.data.some((d) => typeof d !== 'string'))
  )
    fail("'data' must be a non-empty list of file names");
  const seeds = j.seeds;
  if (
    !Array.isArray(seeds) ||
    !seeds.length ||
    seeds.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)
  )
    fail("'seeds' must be a non-empty list of integers in 0..2^32−1");
  if (new Set(seeds as number[]).size !== (seeds as number[]).length) fail("'seeds' has a repeat");
  if (
    j.training_tokens !== undefined &&
    !(Number.isInteger(j.training_tokens) && (j.training_tokens as number) > 0)
  )
    fail("'training_tokens' must be a positive integer");
  const checkConfig = (c: unknown, where: string) => {
    if (!isObj(c)) fail(`${where} must be an object of TrainConfig fields`);
    for (const k of Object.keys(c as object))
      if (!(k in DEFAULT_CONFIG)) fail(`${where}: unknown TrainConfig field '${k}'`);
    if ('seed' in (c as object)) fail(`${where}: set seeds with 'seeds', not 'seed'`);
    const a = (c as Record<string, unknown>).architecture;
    if (a !== undefined && !isArchitecture(a))
      fail(`${where}: unknown architecture '${String(a)}' (known: ${ARCHITECTURE_IDS.join(', ')})`);
    return c as Record<string, unknown>;
  };
  const base = j.base === undefined ? {} : checkConfig(j.base, "'base'");
  if (!Array.isArray(j.methods) || !j.methods.length) fail("'methods' must be a non-empty list");
  const names = new Set<string>();
  const slugs = new Set<string>();
  const methods = (j.methods as unknown[]).map((m, i) => {
    if (!isObj(m) || typeof m.name !== 'string' || !m.name.trim()) fail(`methods[${i}] needs a 'name'`);
    const mm = m as Record<string, unknown>;
    for (const k of Object.keys(mm))
      if (k !== 'name' && k !== 'config' && k !== 'target_l0') fail(`methods[${i}]: unknown field '${k}'`);
    const name = (mm.name as string).trim();
    if (names.has(name)) fail(`two methods are named '${name}'`);
    names.add(name);
    const slug = methodSlug(name);
    if (slugs.has(slug)) fail(`two method names give the same folder '${slug}'`);
    slugs.add(slug);
    const config = mm.config === undefined ? {} : checkConfig(mm.config, `methods[${i}].config`);
    const t = mm.target_l0;
    if (t !== undefined) {
      if (typeof t !== 'number' || !(t > 0)) fail(`methods[${i}].target_l0 must be a number > 0`);
      const arch = (config.architecture ?? base.architecture ?? DEFAULT_CONFIG.architecture) as Architecture;
      const ctl = l0Control(arch);
      const spec = architectureOf(arch);
      if (ctl.kind === 'fixed')
        fail(
          `methods[${i}]: ${spec.name} fixes L0 by ${ctl.key}; target_l0 is for architectures with a sparsity coefficient (λ1)`,
        );
      if (ctl.kind === 'none') fail(`methods[${i}]: ${spec.name} has no knob that sets L0`);
      if ('l1_coefficient' in config)
        fail(`methods[${i}]: target_l0 searches l1_coefficient; do not set it too`);
    }
    return { name, config, ...(t !== undefined ? { target_l0: t as number } : {}) };
  });
  const ls = j.l0_search ?? {};
  if (!isObj(ls)) fail("'l0_search' must be an object { steps, probes }");
  const lso = ls as Record<string, unknown>;
  for (const k of Object.keys(lso))
    if (k !== 'steps' && k !== 'probes') fail(`l0_search: unknown field '${k}'`);
  const l0_search = {
    steps: lso.steps ?? DEFAULT_L0_SEARCH.steps,
    probes: lso.probes ?? DEFAULT_L0_SEARCH.probes,
  };
  if (!Number.isInteger(l0_search.steps) || (l0_search.steps as number) <= 0)
    fail("'l0_search.steps' must be a positive integer");
  if (
    !Number.isInteger(l0_search.probes) ||
    (l0_search.probes as number) < 2 ||
    (l0_search.probes as number) > 20
  )
    fail("'l0_search.probes' must be an integer in 2..20");
  const flags = j.train_flags ?? [];
  if (!Array.isArray(flags) || flags.some((f) => typeof f !== 'string'))
    fail("'train_flags' must be a list of strings");
  for (const bad of ['--out', '--resume', '--config', '--seed', '--dataset', '--data'])
    if ((flags as string[]).includes(bad))
      fail(`'train_flags' may not contain ${bad} (the experiment sets it)`);
  if (j.metrics !== undefined && (!Array.isArray(j.metrics) || j.metrics.some((k) => typeof k !== 'string')))
    fail("'metrics' must be a list of metric names");
  const level = j.level ?? 0.95;
  if (typeof level !== 'number' || !(level > 0 && level < 1)) fail("'level' must be a number in (0, 1)");
  for (const k of ['data_seq_len'] as const)
    if (j[k] !== undefined && !(Number.isInteger(j[k]) && (j[k] as number) > 0))
      fail(`'${k}' must be a positive integer`);
  if (j.hook_name !== undefined && typeof j.hook_name !== 'string') fail("'hook_name' must be a string");
  if (j.name !== undefined && typeof j.name !== 'string') fail("'name' must be a string");
  return {
    name: typeof j.name === 'string' ? j.name : 'TempoSAE experiment',
    dataset: j.dataset as string | undefined,
    data: j.data as string[] | undefined,
    data_seq_len: j.data_seq_len as number | undefined,
    hook_name: j.hook_name as string | undefined,
    seeds: seeds as number[],
    training_tokens: j.training_tokens as number | undefined,
    base,
    methods,
    l0_search: l0_search as { steps: number; probes: number },
    train_flags: flags as string[],
    metrics: j.metrics as string[] | undefined,
    level: level as number,
  };
}

/** A method name made file-safe (run folders, record keys). */
export function methodSlug(method: string): string {
  return method.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '') || 'method';
}

/** Folder name of a run: the method name made file-safe, and the seed. */
export function runDirName(method: string, seed: number): string {
  return `${methodSlug(method)}-seed${seed}`;
}

// ---------------------------------------------------------------------------------------------------
// Methods as the app's panel picks them

export interface MethodPick {
  architecture: Architecture;
  /** λ2: 0 is the architecture without the temporal penalty. */
  temporal_coefficient: number;
}

/** The method an app pick stands for; a target L0 goes to λ1's search or to k (the registry says which). */
export function methodOf(p: MethodPick, targetL0?: number): ExperimentMethod {
  const spec = architectureOf(p.architecture);
  const name = p.temporal_coefficient === 0 ? spec.name : `${spec.name} + ours λ2=${p.temporal_coefficient}`;
  const config: Record<string, unknown> = {
    architecture: p.architecture,
    temporal_coefficient: p.temporal_coefficient,
  };
  if (targetL0 === undefined) return { name, config };
  const ctl = l0Control(p.architecture);
  if (ctl.kind === 'fixed')
    return { name, config: { ...config, [ctl.key]: Math.max(1, Math.round(targetL0)) } };
  if (ctl.kind === 'search') return { name, config, target_l0: targetL0 };
  return { name, config };
}

// ---------------------------------------------------------------------------------------------------
// The runs

export interface L0Probe {
  l1_coefficient: number;
  l0: number;
}

export interface L0Search {
  target_l0: number;
  steps: number;
  /** Every probe in the order run: λ1 and the held-out L0 it gave. */
  probes: L0Probe[];
  chosen: number;
  chosen_l0: number;
}

/** λ1 of the first probe: the base's, else the data's default (the caller knows the data). */
export function firstProbeL1(x: ExperimentConfig, dataDefault: number): number {
  return Number(x.base.l1_coefficient ?? dataDefault);
}

/** λ1 of the next probe, from those run so far (a replay, so a search can continue after a stop). */
export function nextProbeL1(target: number, first: number, probes: readonly L0Probe[]): number {
  let l1 = first;
  let lo: number | null = null,
    hi: number | null = null;
  for (const p of probes) {
    l1 = p.l1_coefficient;
    // L0 falls as λ1 grows: above the target → λ1 too small.
    if (p.l0 > target) lo = l1;
    else hi = l1;
    l1 = hi === null ? l1 * 4 : lo === null ? l1 / 4 : Math.sqrt(lo * hi);
  }
  return l1;
}

/** The search's answer: the probe closest to the target in log terms. */
export function finishL0Search(target: number, steps: number, probes: readonly L0Probe[]): L0Search {
  if (!probes.length) throw new Error('an L0 search needs at least one probe');
  const err = (p: L0Probe) => Math.abs(Math.log(p.l0 / target));
  const best = probes.reduce((b, p) => (err(p) < err(b) ? p : b));
  return {
    target_l0: target,
    steps,
    probes: [...probes],
    chosen: best.l1_coefficient,
    chosen_l0: best.l0,
  };
}

/** One run to train: a probe of a method's L0 search or a method at a seed. */
export interface RunRequest {
  kind: 'probe' | 'run';
  method: string;
  seed: number;
  /** The probe's index in its search. */
  probe?: number;
  /** TrainConfig fields over the data's defaults (base, method, λ1, seed, token budget). */
  config: Record<string, unknown>;
  /** A probe trains this many steps (its budget; the experiment's token budget does not apply). */
  steps?: number;
  /** For people: "ReLU seed 2", "ReLU λ1 0.25 (L0 search 2/6)". */
  label: string;
  /** "[3/8]" or "[L0 search]". */
  tag: string;
}

/** What a finished run gives the table. */
export interface RunOutcome {
  run: ExperimentRun;
  byPosition: Record<string, number[] | undefined>;
}

/** The config fields of a method's probe with λ1 `l1` (first seed; the budget is `steps`). */
export function probeRequest(x: ExperimentConfig, m: ExperimentMethod, l1: number, i: number): RunRequest {
  return {
    kind: 'probe',
    method: m.name,
    seed: x.seeds[0],
    probe: i,
    config: { ...x.base, ...m.config, l1_coefficient: l1, seed: x.seeds[0] },
    steps: x.l0_search.steps,
    label: `${m.name} λ1 ${l1.toPrecision(4)} (L0 search ${i + 1}/${x.l0_search.probes})`,
    tag: '[L0 search]',
  };
}

/** Every method × seed in training order, with the searched λ1 where a method has one. */
export function plannedRuns(x: ExperimentConfig, lambdas: ReadonlyMap<string, number>): RunRequest[] {
  const total = x.methods.length * x.seeds.length;
  const out: RunRequest[] = [];
  for (const m of x.methods)
    for (const seed of x.seeds)
      out.push({
        kind: 'run',
        method: m.name,
        seed,
        config: {
          ...x.base,
          ...m.config,
          ...(lambdas.has(m.name) ? { l1_coefficient: lambdas.get(m.name) } : {}),
          seed,
          ...(x.training_tokens ? { training_tokens: x.training_tokens } : {}),
        },
        label: `${m.name} seed ${seed}`,
        tag: `[${out.length + 1}/${total}]`,
      });
  return out;
}

/**
 * A finished run as the table reads it: its tokens seen, then its final held-out evaluation's finite
 * numbers (a JSON file keeps no NaN, so neither does this: the CLI and the app give the same record),
 * then, for an architecture with Matryoshka prefixes, each prefix's explained variance from the same
 * evaluation's groups (literature.ts; the app's EvalRecord.prefixes, the CLI's eval.json
 * literature.groups) as `explained_variance_prefix_g`, g = 1…G.
 */
export function experimentRunOf(
  method: string,
  seed: number,
  tokensSeen: number | null | undefined,
  evalMetrics: Record<string, unknown>,
  prefixes?: readonly { explained_variance: number }[] | null,
): ExperimentRun {
  const metrics: Record<string, number> = {};
  if (typeof tokensSeen === 'number' && Number.isFinite(tokensSeen)) metrics.tokens_seen = tokensSeen;
  for (const [k, v] of Object.entries(evalMetrics))
    if (k !== 'step' && k !== 'tokens_seen' && typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
  // A file's groups are read as they come: anything but a list of { explained_variance: number } adds nothing.
  (Array.isArray(prefixes) ? prefixes : []).forEach((p: unknown, g) => {
    const v = (p as { explained_variance?: unknown } | null)?.explained_variance;
    if (typeof v === 'number' && Number.isFinite(v)) metrics[prefixEvMetric(g + 1)] = v;
  });
  return { method, seed, metrics };
}

/** What drives an experiment: trains (or reads back) runs and keeps searches. */
export interface ExperimentHost {
  /** The run's outcome, trained now or read back; null when it did not finish (the experiment stops). */
  train(req: RunRequest): Promise<RunOutcome | null>;
  /** A search finished before (read back), or null. */
  loadSearch(method: ExperimentMethod): L0Search | null;
  saveSearch(method: ExperimentMethod, s: L0Search): void;
  /** λ1 of a search's first probe when the base sets none (the data's default λ1). */
  dataDefaultL1: number;
  /** Progress in words. */
  log(line: string): void;
  /** Checked between runs: true ends the experiment there (incomplete, resumable). */
  stopped?(): boolean;
}

export interface ExperimentReport {
  name: string;
  runs: ExperimentRun[];
  table: ExperimentTable;
  l0_search: Record<string, L0Search>;
  by_position: ExperimentByPosition;
}

/** The searches, then every run; the report, or null when a run did not finish (run it again to go on). */
export async function runExperiment(
  x: ExperimentConfig,
  host: ExperimentHost,
): Promise<ExperimentReport | null> {
  const lam = new Map<string, number>();
  const searches: Record<string, L0Search> = {};
  for (const m of x.methods) {
    if (m.target_l0 === undefined) continue;
    let search = host.loadSearch(m);
    if (!search) {
      const probes: L0Probe[] = [];
      const first = firstProbeL1(x, host.dataDefaultL1);
      for (let i = 0; i < x.l0_search.probes; i++) {
        if (host.stopped?.()) return null;
        const l1 = nextProbeL1(m.target_l0, first, probes);
        const out = await host.train(probeRequest(x, m, l1, i));
        if (!out) return null;
        probes.push({ l1_coefficient: l1, l0: out.run.metrics.l0 });
      }
      search = finishL0Search(m.target_l0, x.l0_search.steps, probes);
      host.saveSearch(m, search);
    }
    host.log(
      `${m.name}: λ1 ${search.chosen.toPrecision(4)} gave L0 ${search.chosen_l0.toPrecision(4)} (target ${m.target_l0}) in the search`,
    );
    lam.set(m.name, search.chosen);
    searches[m.name] = search;
  }
  const outcomes: RunOutcome[] = [];
  for (const req of plannedRuns(x, lam)) {
    if (host.stopped?.()) return null;
    const out = await host.train(req);
    if (!out) return null;
    outcomes.push(out);
  }
  return experimentReport(x, outcomes, searches);
}

/** table.json: the runs, the table (mean ± interval, sentences), the searches and by-position means. */
export function experimentReport(
  x: ExperimentConfig,
  outcomes: readonly RunOutcome[],
  searches: Record<string, L0Search>,
): ExperimentReport {
  const runs = outcomes.map((o) => o.run);
  const table = experimentTable(runs, x.metrics, x.level);
  const by_position = experimentByPosition(
    outcomes.map((o) => ({ method: o.run.method, byPosition: o.byPosition })),
    x.level,
  );
  return { name: x.name, runs, table, l0_search: searches, by_position };
}

/** table.json's bytes. */
export function experimentReportJson(r: ExperimentReport): string {
  return JSON.stringify(r, null, 2);
}

/** An experiment file's bytes (the app's download; `experiment --config` reads it back as it is). */
export function experimentConfigJson(x: ExperimentConfig): string {
  return JSON.stringify(x, null, 2) + '\n';
}
