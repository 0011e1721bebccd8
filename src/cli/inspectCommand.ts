// `inspect --sae DIR (--data FILE... | --dataset builtin:PRESET) --features 3,17,42 [--tokenizer FILE]`
// (issue 10): the chosen features' dashboards — top contexts, quantile groups, histogram, temporal
// behaviour, token text — as one JSON line in the documented dashboard shape (README "Feature
// dashboard JSON"), computed by the same functions as the app's inspector (src/analysis/featureColumns.ts,
// featureDashboard.ts, src/io/dashboardJson.ts). Token text: --tokenizer FILE (tokenizer.json or a
// vocabulary JSON), else a tokenizer.json / vocab*.json inside a --data folder, else the built-in
// data's vocabulary, else ids. `--out FILE` also writes the JSON there (indented).
// Also here: the HTML report `train --report` writes into its output folder (report.html).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DASHBOARD_DEFAULTS,
  buildFeatureDashboard,
  type DashboardOptions,
  type FeatureDashboard,
} from '../analysis/featureDashboard';
import { collectFeatures } from '../analysis/featureColumns';
import { evaluateHeldOut, type EvalResult } from '../analysis/evaluate';
import type { Batcher } from '../data/batcher';
import { fileByteSource } from '../data/nodeByteSource';
import type { SyntheticSource } from '../data/synthetic';
import {
  idsTokenText,
  isTokenTextFile,
  loadTokenText,
  tokenTextFromFiles,
  vocabularyTokenText,
  type TokenText,
} from '../data/tokenText';
import { dashboardFile, dashboardToJson, type DashboardFile } from '../io/dashboardJson';
import type { MetricHistory } from '../io/history';
import { buildHtmlReport, type ReportCurve } from '../io/htmlReport';
import { importSaeFolder } from '../io/importSae';
import type { TrainConfig } from '../sae/config';
import { createTrainer } from '../sae/trainer';
import type { SaeTrainerApi } from '../sae/trainerApi';
import { flag, flagList, flagNumber, UsageError, type ParsedArgs } from './args';
import { dataSpecOf, openCliData, type OpenedData } from './data';
import { gpuFor, jsonLine, type CliEnv } from './env';
import { readFolder, writeFileAtomic } from './runFolder';
import { saeOnData } from './saeOnData';

/** Batches an inspection reads at most by default (bounded time). */
export const INSPECT_MAX_BATCHES = 64;

/** "3,17 42" → [3, 17, 42] (usage error naming what is wrong). */
export function parseFeatures(raw: string[], m: number): number[] {
  const parts = raw.flatMap((r) => r.split(',')).filter((s) => s.trim() !== '');
  if (!parts.length) throw new UsageError('inspect needs --features 3,17,42 (feature indices)');
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n >= m)
      throw new UsageError(`--features: '${p}' is not a feature of this SAE (0–${m - 1})`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Tokenizer files inside the --data paths (a SAELens cache folder often carries one). */
function tokenizerFilesIn(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    const names = st.isDirectory() ? readdirSync(p).map((n) => path.join(p, n)) : [p];
    for (const f of names) if (isTokenTextFile(f) || /(^|[\\/])tokenizer_config\.json$/i.test(f)) out.push(f);
  }
  return out;
}

/** The token text of the CLI's data: --tokenizer, a tokenizer in the data folder, the built-in vocabulary, ids. */
export async function cliTokenText(data: OpenedData, tokenizer: string | undefined): Promise<TokenText> {
  if (tokenizer) {
    if (!statSync(tokenizer, { throwIfNoEntry: false })?.isFile())
      throw new UsageError(`--tokenizer: ${tokenizer} is not a file`);
    return loadTokenText(await fileByteSource(tokenizer));
  }
  if ('files' in data.spec) {
    const found = tokenizerFilesIn(data.spec.files);
    if (found.length) {
      const tt = await tokenTextFromFiles(await Promise.all(found.map((f) => fileByteSource(f))));
      if (tt) return tt;
    }
  }
  const synth = data.source as Partial<SyntheticSource>;
  if (typeof synth.vocabulary === 'function')
    return vocabularyTokenText(synth.vocabulary(), 'synthetic vocabulary');
  return idsTokenText();
}

/** --top K --before B --after A (the inspector's options; defaults 20, 12, 4). */
export function dashboardOptionsOf(a: ParsedArgs): DashboardOptions {
  const o: DashboardOptions = {};
  for (const [k, lo, hi] of [
    ['top', 1, 1000],
    ['before', 0, 256],
    ['after', 0, 256],
  ] as const) {
    const v = flagNumber(a, k);
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new UsageError(`--${k} must be an integer from ${lo} to ${hi} (got ${v})`);
    o[k] = v;
  }
  return o;
}

/** Dashboards of `features` over the batches of `batcher`'s held-out split. */
export async function dashboardsOf(
  trainer: SaeTrainerApi,
  batcher: Batcher,
  features: number[],
  tokenText: TokenText,
  maxBatches = INSPECT_MAX_BATCHES,
  opts: DashboardOptions = {},
): Promise<{ dashboards: FeatureDashboard[]; T: number; sequences: number }> {
  const c = await collectFeatures(
    batcher.heldOutBatches(),
    (b) => trainer.forward(b),
    trainer.cfg.d_sae,
    features,
    maxBatches,
  );
  if (c.sequences === 0) throw new UsageError('no sequences to inspect (the split is empty)');
  return {
    dashboards: features.map((f, k) => buildFeatureDashboard(f, c.columns[k], tokenText, opts)),
    T: c.T,
    sequences: c.sequences,
  };
}

const CONTEXT = { before: DASHBOARD_DEFAULTS.before, after: DASHBOARD_DEFAULTS.after };

export async function inspectCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const dir = flag(a, 'sae');
  if (!dir) throw new UsageError('inspect needs --sae DIR (a SAELens, sparsify or TempoSAE folder)');
  const imp = importSaeFolder(readFolder(dir), dir);
  for (const w of imp.warnings) env.err.write(`note: ${w}\n`);
  const features = parseFeatures(flagList(a, 'features'), imp.weights.d_sae);
  const spec = dataSpecOf(a);
  if (!spec) throw new UsageError('inspect needs --data FILE... or --dataset builtin:PRESET');
  const data = await openCliData(spec);
  const { split, cfg, batcher } = await saeOnData(a, imp, data, 'inspect');
  const tokenText = await cliTokenText(data, flag(a, 'tokenizer'));
  if (!data.source.hasTokenIds && tokenText.kind !== 'ids')
    env.err.write(`note: the data has no token ids, so ${tokenText.name} cannot name its tokens\n`);
  const maxBatches = flagNumber(a, 'max-batches') ?? INSPECT_MAX_BATCHES;
  if (!Number.isInteger(maxBatches) || maxBatches < 1)
    throw new UsageError(`--max-batches must be a positive integer (got ${maxBatches})`);
  const opts = dashboardOptionsOf(a);
  const gpu = await gpuFor(a, env);
  const trainer = await createTrainer(gpu, cfg, imp.weights);
  let file: DashboardFile;
  try {
    const r = await dashboardsOf(trainer, batcher, features, tokenText, maxBatches, opts);
    file = dashboardFile({
      run: { name: dir, step: imp.steps, config: { ...imp.config } },
      data: { label: data.label, split, tokens_per_sequence: r.T, sequences: r.sequences },
      tokenText,
      context: { before: opts.before ?? CONTEXT.before, after: opts.after ?? CONTEXT.after },
      dashboards: r.dashboards,
    });
  } finally {
    trainer.destroy();
  }
  const out = flag(a, 'out');
  if (out) writeFileAtomic(out, dashboardToJson(file, 1));
  env.out(jsonLine({ command: 'inspect', sae: dir, sae_format: imp.format, ...file }));
  return 0;
}

// ---- train --report ----

export const REPORT_FILE = 'report.html';

/** Features a CLI report shows: those named, else the most variable of the clustering, else 0…11. */
function reportFeatures(raw: string | undefined, m: number, ev: EvalResult | null): number[] {
  if (raw && raw !== 'true') return parseFeatures([raw], m);
  const clustered = ev?.clustering?.features ?? [];
  return (clustered.length ? clustered : Array.from({ length: m }, (_, i) => i)).slice(0, 12);
}

/** Write report.html into a finished `train` output folder (its config, curves, metrics, clustering, features). */
export async function writeTrainReport(
  a: ParsedArgs,
  env: CliEnv,
  o: {
    out: string;
    trainer: SaeTrainerApi;
    batcher: Batcher;
    cfg: TrainConfig;
    data: OpenedData;
    history: MetricHistory;
    runName: string;
  },
): Promise<string> {
  const { trainer, batcher, cfg, data } = o;
  // The clustering of the report (the training evaluations skip it): one evaluation with clusterK.
  let ev: EvalResult | null = null;
  if (batcher.heldOutWindows > 0)
    ev = await evaluateHeldOut(
      (b) => trainer.forward(b),
      () => batcher.heldOutBatches(),
      {
        d_sae: cfg.d_sae,
        clusterK: Math.min(64, cfg.d_sae),
      },
    );
  const features = reportFeatures(flag(a, 'report'), cfg.d_sae, ev);
  const tokenText = await cliTokenText(data, flag(a, 'tokenizer'));
  const r = batcher.heldOutWindows > 0 ? await dashboardsOf(trainer, batcher, features, tokenText) : null;
  const curves: ReportCurve[] = ['loss', 'l_recon', 'l_sparse', 'l_temp', 'l0', 'dead_count', 'alpha', 'lr']
    .filter((k) => o.history.train.some((row) => typeof row[k] === 'number'))
    .map((k) => ({
      name: k,
      step: o.history.train.map((row) => row.step),
      values: o.history.train.map((row) => row[k]),
    }));
  const c = ev?.clustering ?? null;
  const html = buildHtmlReport({
    title: `${o.runName} — TempoSAE report`,
    createdAt: new Date().toISOString(),
    config: { ...cfg },
    data: { label: data.label, tokenText: tokenText.name },
    curves,
    evals: o.history.eval.map(({ step, ...metrics }) => ({ step, metrics })),
    clustering: c
      ? { features: c.features, order: c.order, linkage: c.linkage, heatByPosition: c.heatByPosition }
      : null,
    dashboards: r
      ? dashboardFile({
          run: { name: o.runName, step: trainer.step, config: { ...cfg } },
          data: { label: data.label, split: 'heldout', tokens_per_sequence: r.T, sequences: r.sequences },
          tokenText,
          context: CONTEXT,
          dashboards: r.dashboards,
        })
      : null,
  });
  const file = path.join(o.out, REPORT_FILE);
  writeFileAtomic(file, html);
  env.err.write(`report: ${file} (${features.length} features)\n`);
  return file;
}
