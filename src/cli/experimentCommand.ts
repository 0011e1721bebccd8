// `experiment --config FILE.json --out DIR [--adapter auto|swiftshader]` (issue 14): methods × seeds at one token budget, trained one
// after another by the same `train` command (every run's folder under DIR/runs/), then the table of
// the runs' final held-out metrics (mean ± Student t interval over seeds), frontier plots and one
// sentence per metric (src/analysis/experimentTable.ts) as DIR/table.json, table.csv and report.html,
// and each by-position metric's mean ± interval over seeds (table.json by_position, by_position.csv).
// Resumable: a run whose folder holds result.json is read back, not trained again; one that stopped
// part-way continues from its newest checkpoint (train --resume).
//
// FILE.json (every field checked; unknown fields are refused):
//   { "name": "…",                                   optional title
//     "dataset": "builtin:PRESET" | "data": ["FILE", …] (+ optional "data_seq_len", "hook_name"),
//     "seeds": [1, 2, 3],                            the run's `seed` (and the data seed stays the dataset's)
//     "training_tokens": 400000,                     optional: the same budget for every run
//     "base": { TrainConfig fields },                optional, for every method
//     "methods": [{ "name": "plain", "config": { "temporal_coefficient": 0 } }, …],
//     "train_flags": ["--d-sae", "64"],              optional: extra `train` flags for every run
//     "metrics": ["explained_variance", …],          optional table columns
//     "level": 0.95 }                                optional interval level
// Matched L0: TopK fixes it by k. A ReLU/JumpReLU method with "target_l0": L first searches λ1 with
// short runs of the first seed ("l0_search": { "steps": 200, "probes": 6 }): L0 falls as λ1 grows, so
// λ1 ×4 (or ÷4) until the target is bracketed, then geometric bisection; the probe whose held-out L0 is
// closest to L in log terms gives λ1 for every seed of that method. The probes are in
// DIR/runs/<method>-l0search/ and table.json (`l0_search`); a rerun reads them back.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  byPositionCsv,
  experimentByPosition,
  experimentCsv,
  experimentHtml,
  experimentTable,
  type ExperimentRun,
} from '../analysis/experimentTable';
import { DEFAULT_CONFIG } from '../sae/config';
import { flag, parseArgs, UsageError, type ParsedArgs } from './args';
import { jsonLine, type CliEnv } from './env';
import { writeFileAtomic } from './runFolder';
import { trainCommand } from './train';

export interface ExperimentConfig {
  name: string;
  dataset?: string;
  data?: string[];
  data_seq_len?: number;
  hook_name?: string;
  seeds: number[];
  training_tokens?: number;
  base: Record<string, unknown>;
  methods: { name: string; config: Record<string, unknown>; target_l0?: number }[];
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

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and check an experiment file's JSON; every problem names the file and the field. */
export function parseExperimentConfig(json: unknown, file: string): ExperimentConfig {
  const fail = (msg: string): never => {
    throw new UsageError(`${file}: ${msg}`);
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
    return c as Record<string, unknown>;
  };
  const base = j.base === undefined ? {} : checkConfig(j.base, "'base'");
  if (!Array.isArray(j.methods) || !j.methods.length) fail("'methods' must be a non-empty list");
  const names = new Set<string>();
  const methods = (j.methods as unknown[]).map((m, i) => {
    if (!isObj(m) || typeof m.name !== 'string' || !m.name.trim()) fail(`methods[${i}] needs a 'name'`);
    const mm = m as Record<string, unknown>;
    for (const k of Object.keys(mm))
      if (k !== 'name' && k !== 'config' && k !== 'target_l0') fail(`methods[${i}]: unknown field '${k}'`);
    const name = (mm.name as string).trim();
    if (names.has(name)) fail(`two methods are named '${name}'`);
    names.add(name);
    const config = mm.config === undefined ? {} : checkConfig(mm.config, `methods[${i}].config`);
    const t = mm.target_l0;
    if (t !== undefined) {
      if (typeof t !== 'number' || !(t > 0)) fail(`methods[${i}].target_l0 must be a number > 0`);
      const arch = config.architecture ?? base.architecture ?? DEFAULT_CONFIG.architecture;
      if (arch === 'topk') fail(`methods[${i}]: TopK fixes L0 by k; target_l0 is for ReLU and JumpReLU (λ1)`);
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
  const l0_search = { steps: lso.steps ?? 200, probes: lso.probes ?? 6 };
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

/** λ1 of the first probe on the built-in data when the base sets none: the app's λ1 there (train's default). */
const BUILTIN_L1 = 1;

export interface L0Search {
  target_l0: number;
  steps: number;
  /** Every probe in the order run: λ1 and the held-out L0 it gave. */
  probes: { l1_coefficient: number; l0: number }[];
  chosen: number;
  chosen_l0: number;
}

/** train_flags without any --steps N (the search sets its own). */
function stripSteps(flags: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === '--steps') i++;
    else out.push(flags[i]);
  }
  return out;
}

/** Folder name of a run: the method name made file-safe, and the seed. */
export function runDirName(method: string, seed: number): string {
  const slug = method.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '') || 'method';
  return `${slug}-seed${seed}`;
}

export async function experimentCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const file = flag(a, 'config');
  const out = flag(a, 'out');
  if (!file || !out) throw new UsageError('experiment needs --config FILE.json and --out DIR');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const x = parseExperimentConfig(json, file);
  const slugs = new Set<string>();
  for (const m of x.methods) {
    const s = runDirName(m.name, 0);
    if (slugs.has(s)) throw new UsageError(`${file}: two method names give the same folder '${s}'`);
    slugs.add(s);
  }
  mkdirSync(path.join(out, 'runs'), { recursive: true });
  const adapter = flag(a, 'adapter');
  const dataFlags = [
    ...(x.dataset ? ['--dataset', x.dataset] : x.data!.flatMap((d) => ['--data', d])),
    ...(x.data_seq_len ? ['--data-seq-len', String(x.data_seq_len)] : []),
    ...(x.hook_name ? ['--hook-name', x.hook_name] : []),
  ];
  /** Train (or resume) one run in `dir`; its final numeric metrics, or null (reported) when it did not finish. */
  const trainRun = async (
    dir: string,
    config: Record<string, unknown>,
    name: string,
    tag: string,
    flagsOverride?: string[],
  ): Promise<Record<string, number> | null> => {
    mkdirSync(dir, { recursive: true });
    const cfgFile = path.join(dir, 'experiment-run.json');
    const runCfg = {
      ...x.base,
      ...config,
      ...(x.training_tokens && !flagsOverride ? { training_tokens: x.training_tokens } : {}),
    };
    writeFileAtomic(cfgFile, JSON.stringify(runCfg, null, 2));
    const started = existsSync(path.join(dir, 'cfg.json')) || existsSync(path.join(dir, 'checkpoints'));
    const argv = started
      ? ['train', '--resume', dir, ...(adapter ? ['--adapter', adapter] : [])]
      : [
          'train',
          ...dataFlags,
          '--config',
          cfgFile,
          '--out',
          dir,
          '--name',
          name,
          ...(flagsOverride ?? x.train_flags),
          ...(adapter ? ['--adapter', adapter] : []),
        ];
    env.err.write(`${tag} ${name}: train ${argv.slice(1).join(' ')}\n`);
    let last = '';
    const code = await trainCommand(parseArgs(argv), { ...env, out: (l) => (last = l) });
    const res = last ? (JSON.parse(last) as Record<string, unknown>) : {};
    if (code !== 0 || res.status !== 'done') {
      env.err.write(`${name} did not finish (exit ${code}); run the experiment again to continue\n`);
      env.out(jsonLine({ command: 'experiment', status: 'incomplete', run: dir, exit: code, out }));
      return null;
    }
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(res)) if (typeof v === 'number') metrics[k] = v;
    delete metrics.step;
    return metrics;
  };
  // Matched L0: λ1 per method with a target, from short probe runs of the first seed.
  const lam = new Map<string, number>();
  const searches: Record<string, L0Search> = {};
  for (const m of x.methods) {
    if (m.target_l0 === undefined) continue;
    const sdir = path.join(
      out,
      'runs',
      `${runDirName(m.name, x.seeds[0]).replace(/-seed\d+$/, '')}-l0search`,
    );
    const sfile = path.join(sdir, 'search.json');
    let search: L0Search;
    if (existsSync(sfile)) search = JSON.parse(readFileSync(sfile, 'utf8')) as L0Search;
    else {
      const flagsOverride = [...stripSteps(x.train_flags), '--steps', String(x.l0_search.steps)];
      const probes: { l1_coefficient: number; l0: number }[] = [];
      let l1 = Number(x.base.l1_coefficient ?? (x.dataset ? BUILTIN_L1 : DEFAULT_CONFIG.l1_coefficient));
      let lo: number | null = null,
        hi: number | null = null;
      for (let i = 0; i < x.l0_search.probes; i++) {
        const metrics = await trainRun(
          path.join(sdir, `probe-${i}`),
          { ...m.config, l1_coefficient: l1, seed: x.seeds[0] },
          `${m.name} λ1 ${l1.toPrecision(4)} (L0 search ${i + 1}/${x.l0_search.probes})`,
          '[L0 search]',
          flagsOverride,
        );
        if (!metrics) return 1;
        probes.push({ l1_coefficient: l1, l0: metrics.l0 });
        // L0 falls as λ1 grows: above the target → λ1 too small.
        if (metrics.l0 > m.target_l0) lo = l1;
        else hi = l1;
        l1 = hi === null ? l1 * 4 : lo === null ? l1 / 4 : Math.sqrt(lo * hi);
      }
      const err = (p: { l0: number }) => Math.abs(Math.log(p.l0 / m.target_l0!));
      const best = probes.reduce((b, p) => (err(p) < err(b) ? p : b));
      search = {
        target_l0: m.target_l0,
        steps: x.l0_search.steps,
        probes,
        chosen: best.l1_coefficient,
        chosen_l0: best.l0,
      };
      writeFileAtomic(sfile, JSON.stringify(search, null, 2));
    }
    env.err.write(
      `${m.name}: λ1 ${search.chosen.toPrecision(4)} gave L0 ${search.chosen_l0.toPrecision(4)} (target ${m.target_l0}) in the search\n`,
    );
    lam.set(m.name, search.chosen);
    searches[m.name] = search;
  }
  const runs: ExperimentRun[] = [];
  const total = x.methods.length * x.seeds.length;
  let done = 0;
  for (const m of x.methods)
    for (const seed of x.seeds) {
      const dir = path.join(out, 'runs', runDirName(m.name, seed));
      const resultFile = path.join(dir, 'result.json');
      done++;
      if (existsSync(resultFile)) {
        const r = JSON.parse(readFileSync(resultFile, 'utf8')) as ExperimentRun;
        env.err.write(`[${done}/${total}] ${m.name} seed ${seed}: done before, read back\n`);
        runs.push(r);
        continue;
      }
      const cfg = { ...m.config, ...(lam.has(m.name) ? { l1_coefficient: lam.get(m.name) } : {}), seed };
      const metrics = await trainRun(dir, cfg, `${m.name} seed ${seed}`, `[${done}/${total}]`);
      if (!metrics) return 1;
      const r: ExperimentRun = { method: m.name, seed, metrics };
      writeFileAtomic(resultFile, JSON.stringify(r, null, 2));
      runs.push(r);
    }
  const table = experimentTable(runs, x.metrics, x.level);
  // By position over seeds, from each run's eval.json (written by train next to result.json).
  const byPos = experimentByPosition(
    x.methods.flatMap((m) =>
      x.seeds.map((seed) => {
        const ev = path.join(out, 'runs', runDirName(m.name, seed), 'eval.json');
        const bp = existsSync(ev) ? (JSON.parse(readFileSync(ev, 'utf8')).byPosition ?? {}) : {};
        return { method: m.name, byPosition: bp as Record<string, number[]> };
      }),
    ),
    x.level,
  );
  writeFileAtomic(path.join(out, 'by_position.csv'), byPositionCsv(byPos));
  writeFileAtomic(
    path.join(out, 'table.json'),
    JSON.stringify({ name: x.name, runs, table, l0_search: searches, by_position: byPos }, null, 2),
  );
  writeFileAtomic(path.join(out, 'table.csv'), experimentCsv(table));
  writeFileAtomic(path.join(out, 'report.html'), experimentHtml(table, x.name));
  env.out(
    jsonLine({
      command: 'experiment',
      status: 'done',
      out,
      runs: runs.length,
      methods: table.methods,
      metrics: table.metrics,
      sentences: table.sentences.map((s) => s.text),
    }),
  );
  return 0;
}
