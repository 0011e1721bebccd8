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
// Matched L0 (the planner, src/analysis/experimentPlan.ts, asks the architecture registry): TopK and
// BatchTopK fix it by k; a method with a sparsity coefficient (ReLU, JumpReLU) and "target_l0": L first
// searches λ1 with short runs of the first seed ("l0_search": { "steps": 200, "probes": 6 }): L0 falls as
// λ1 grows, so λ1 ×4 (or ÷4) until the target is bracketed, then geometric bisection; the probe whose
// held-out L0 is closest to L in log terms gives λ1 for every seed of that method. The probes are in
// DIR/runs/<method>-l0search/ and table.json (`l0_search`); a rerun reads them back. The app's
// experiment panel runs the same plan (src/app/experimentSession.ts) and gives the same table.json.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  experimentRunOf,
  ExperimentConfigError,
  experimentReportJson,
  methodSlug,
  parseExperimentConfig as parsePlan,
  runDirName,
  runExperiment,
  type ExperimentConfig,
  type L0Search,
  type RunOutcome,
  type RunRequest,
} from '../analysis/experimentPlan';
import {
  byPositionCsv,
  experimentCsv,
  experimentHtml,
  type ExperimentRun,
} from '../analysis/experimentTable';
import type { SyntheticPreset } from '../data/synthetic';
import { runDefaults } from '../engine/defaults';
import { flag, parseArgs, UsageError, type ParsedArgs } from './args';
import { jsonLine, type CliEnv } from './env';
import { writeFileAtomic } from './runFolder';
import { trainCommand } from './train';

export { runDirName, type ExperimentConfig, type L0Search };

/** The planner's check of an experiment file (src/analysis/experimentPlan.ts), as a usage error. */
export function parseExperimentConfig(json: unknown, file: string): ExperimentConfig {
  try {
    return parsePlan(json, file);
  } catch (e) {
    if (e instanceof ExperimentConfigError) throw new UsageError(e.message);
    throw e;
  }
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

/** λ1 the data implies when the base sets none: the built-in data's recommended λ1, else the method's. */
function dataDefaultL1(x: ExperimentConfig): number {
  const preset = x.dataset?.startsWith('builtin:') ? (x.dataset.slice(8) as SyntheticPreset) : undefined;
  return runDefaults(0, preset).l1_coefficient;
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
  mkdirSync(path.join(out, 'runs'), { recursive: true });
  const adapter = flag(a, 'adapter');
  const dataFlags = [
    ...(x.dataset ? ['--dataset', x.dataset] : x.data!.flatMap((d) => ['--data', d])),
    ...(x.data_seq_len ? ['--data-seq-len', String(x.data_seq_len)] : []),
    ...(x.hook_name ? ['--hook-name', x.hook_name] : []),
  ];
  const searchDir = (method: string) => path.join(out, 'runs', `${methodSlug(method)}-l0search`);
  const dirOf = (req: RunRequest) =>
    req.kind === 'probe'
      ? path.join(searchDir(req.method), `probe-${req.probe}`)
      : path.join(out, 'runs', runDirName(req.method, req.seed));
  /** Train (or resume, or read back) one run in its folder. */
  const train = async (req: RunRequest): Promise<RunOutcome | null> => {
    const dir = dirOf(req);
    const resultFile = path.join(dir, 'result.json');
    const evalFile = path.join(dir, 'eval.json');
    const byPositionOf = () =>
      existsSync(evalFile) ? (JSON.parse(readFileSync(evalFile, 'utf8')).byPosition ?? {}) : {};
    if (req.kind === 'run' && existsSync(resultFile)) {
      env.err.write(`${req.tag} ${req.label}: done before, read back\n`);
      return {
        run: JSON.parse(readFileSync(resultFile, 'utf8')) as ExperimentRun,
        byPosition: byPositionOf(),
      };
    }
    mkdirSync(dir, { recursive: true });
    const cfgFile = path.join(dir, 'experiment-run.json');
    writeFileAtomic(cfgFile, JSON.stringify(req.config, null, 2));
    const started = existsSync(path.join(dir, 'cfg.json')) || existsSync(path.join(dir, 'checkpoints'));
    const flags =
      req.steps !== undefined ? [...stripSteps(x.train_flags), '--steps', String(req.steps)] : x.train_flags;
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
          req.label,
          ...flags,
          ...(adapter ? ['--adapter', adapter] : []),
        ];
    env.err.write(`${req.tag} ${req.label}: train ${argv.slice(1).join(' ')}\n`);
    let last = '';
    const code = await trainCommand(parseArgs(argv), { ...env, out: (l) => (last = l) });
    const res = last ? (JSON.parse(last) as Record<string, unknown>) : {};
    if (code !== 0 || res.status !== 'done') {
      env.err.write(`${req.label} did not finish (exit ${code}); run the experiment again to continue\n`);
      env.out(jsonLine({ command: 'experiment', status: 'incomplete', run: dir, exit: code, out }));
      return null;
    }
    // The prefixes' explained variance: eval.json's literature groups (the app: EvalRecord.prefixes).
    const groups = existsSync(evalFile)
      ? JSON.parse(readFileSync(evalFile, 'utf8')).literature?.groups
      : undefined;
    const run = experimentRunOf(req.method, req.seed, res.tokens_seen as number | null, res, groups);
    if (req.kind === 'run') writeFileAtomic(resultFile, JSON.stringify(run, null, 2));
    return { run, byPosition: byPositionOf() };
  };
  const report = await runExperiment(x, {
    train,
    loadSearch: (m) => {
      const f = path.join(searchDir(m.name), 'search.json');
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as L0Search) : null;
    },
    saveSearch: (m, s) => {
      mkdirSync(searchDir(m.name), { recursive: true });
      writeFileAtomic(path.join(searchDir(m.name), 'search.json'), JSON.stringify(s, null, 2));
    },
    dataDefaultL1: dataDefaultL1(x),
    log: (line) => env.err.write(`${line}\n`),
  });
  if (!report) return 1;
  const { table } = report;
  writeFileAtomic(path.join(out, 'by_position.csv'), byPositionCsv(report.by_position));
  writeFileAtomic(path.join(out, 'table.json'), experimentReportJson(report));
  writeFileAtomic(path.join(out, 'table.csv'), experimentCsv(table));
  writeFileAtomic(path.join(out, 'report.html'), experimentHtml(table, x.name, report.by_position));
  env.out(
    jsonLine({
      command: 'experiment',
      status: 'done',
      out,
      runs: report.runs.length,
      methods: table.methods,
      metrics: table.metrics,
      sentences: table.sentences.map((s) => s.text),
    }),
  );
  return 0;
}
