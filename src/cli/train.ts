// `train`: the same data layer, init, GPU trainer and evaluation as the app, headless.
// Writes --out DIR: checkpoints every checkpoint_every steps and at the end (and on Ctrl-C), the SAE as
// a SAELens v6 folder with the metric history, and eval.json; prints the final metrics as one JSON line.
// `--resume DIR` continues from the newest checkpoint with the same data position, so N steps + resume
// + N steps gives the same weights as 2N steps straight (test/gpu/cli-resume.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { evaluateHeldOut, type EvalResult } from '../analysis/evaluate';
import type { Batcher, BatcherState } from '../data/batcher';
import { openRunBatcher } from '../sae/runBatcher';
import type { ActivationBatch } from '../data/types';
import { serializeCheckpointParts, type Checkpoint } from '../io/checkpoint';
import { buildSaeFolder, HISTORY_JSON_FILE } from '../io/exportSae';
import { emptyHistory, historyFromJson, historyToJson, type MetricHistory } from '../io/history';
import { DEFAULT_CONFIG, totalSteps, validateConfig, type TrainConfig } from '../sae/config';
import { initWeights } from '../sae/init';
import { createTrainer, TrainingDivergedError } from '../sae/trainer';
import type { GpuContext } from '../gpu/device';
import type { SaeTrainerApi } from '../sae/trainerApi';
import type { StepMetrics } from '../sae/types';
import {
  configFromArgs,
  configFlagNames,
  flag,
  flagList,
  flagNumber,
  UsageError,
  type ParsedArgs,
} from './args';
import { dataSpecFromFlags, openCliData, type DataSpec, type OpenedData } from './data';
import { gpuFor, jsonLine, type CliEnv } from './env';
import { ProgressBar } from './progress';
import { checkpointPath, loadLatestCheckpoint, writeFileAtomic, writeFolder } from './runFolder';

/** Flags that may change on --resume without changing the run's numbers. */
const RESUME_SAFE = new Set(['metrics-every', 'eval-every', 'checkpoint-every', 'steps']);

export function openBatcher(data: OpenedData, cfg: TrainConfig, resume?: BatcherState): Promise<Batcher> {
  return openRunBatcher(data.source, cfg, resume);
}

export async function evaluateTrainer(
  trainer: SaeTrainerApi,
  heldOut: () => AsyncIterable<ActivationBatch>,
  data: OpenedData,
  W_dec: Float32Array | null,
): Promise<EvalResult> {
  return evaluateHeldOut((b) => trainer.forward(b), heldOut, {
    d_sae: trainer.cfg.d_sae,
    // Reductions on the GPU: per-batch sums come back instead of f and x̂.
    evalForward: trainer.evalForward?.bind(trainer),
    clusterK: 0,
    groundTruth: data.truth && W_dec ? { ...data.truth, W_dec } : undefined,
  });
}

function stepRow(m: StepMetrics): Record<string, number> {
  return { ...m };
}

interface Setup {
  cfg: TrainConfig;
  data: OpenedData;
  out: string;
  resume: Checkpoint | null;
  history: MetricHistory;
  runName: string;
}

async function setup(a: ParsedArgs, env: CliEnv): Promise<Setup> {
  const resumeDir = flag(a, 'resume');
  const flagSpec = dataSpecFromFlags(
    flag(a, 'dataset'),
    flagList(a, 'data'),
    flagNumber(a, 'data-seed'),
    flagNumber(a, 'data-seq-len'),
    flag(a, 'hook-name'),
  );
  if (resumeDir) {
    const found = loadLatestCheckpoint(resumeDir);
    if (!found)
      throw new UsageError(`--resume ${resumeDir}: no readable checkpoint in ${resumeDir}/checkpoints`);
    for (const s of found.skipped) env.err.write(`skipped a damaged checkpoint: ${s}\n`);
    const ck = found.checkpoint;
    const changed = [...a.flags.keys()].filter((f) => configFlagNames().includes(f) && !RESUME_SAFE.has(f));
    if (changed.length || flag(a, 'config'))
      throw new UsageError(
        `--resume continues the run exactly; these flags would change it: ${[...changed, ...(flag(a, 'config') ? ['config'] : [])].map((f) => '--' + f).join(' ')}`,
      );
    const cfg = configFromArgs(a, ck.config);
    const spec = flagSpec ?? (ck.extra?.data as DataSpec | undefined);
    if (!spec)
      throw new UsageError(
        '--resume: the checkpoint does not say which data it used; give --data or --dataset',
      );
    const data = await openCliData(spec);
    let history = emptyHistory();
    try {
      history = historyFromJson(
        readFileSync(path.join(resumeDir, HISTORY_JSON_FILE), 'utf8'),
        HISTORY_JSON_FILE,
      );
    } catch {
      env.err.write('no readable history.json: the metric history restarts at the checkpoint\n');
    }
    const step = ck.trainer.step;
    // Rows after the checkpoint belong to steps that will be trained again.
    history = {
      train: history.train.filter((r) => r.step <= step),
      eval: history.eval.filter((r) => r.step <= step),
    };
    env.err.write(`resuming from ${found.file} (step ${step})\n`);
    return {
      cfg,
      data,
      out: flag(a, 'out') ?? resumeDir,
      resume: ck,
      history,
      runName: String(ck.extra?.run_name ?? path.basename(resumeDir)),
    };
  }
  if (!flagSpec) throw new UsageError('train needs --dataset builtin:PRESET or --data FILE...');
  const out = flag(a, 'out');
  if (!out) throw new UsageError('train needs --out DIR');
  const data = await openCliData(flagSpec);
  const configPath = flag(a, 'config');
  const configJson = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : undefined;
  const base: TrainConfig = {
    ...DEFAULT_CONFIG,
    d_in: data.source.d,
    // The built-in dataset marks document starts with token 0 (src/data/synthetic.ts SYNTHETIC_BOS).
    doc_start_token_ids: 'builtin' in flagSpec ? [0] : DEFAULT_CONFIG.doc_start_token_ids,
  };
  const cfg = configFromArgs(a, base, configJson);
  if (cfg.d_in !== data.source.d)
    throw new UsageError(`d_in ${cfg.d_in} does not match the data's width ${data.source.d}`);
  return {
    cfg,
    data,
    out,
    resume: null,
    history: emptyHistory(),
    runName: flag(a, 'name') ?? path.basename(path.resolve(out)),
  };
}

export async function trainCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const { cfg, data, out, resume, history, runName } = await setup(a, env);
  const problems = validateConfig(cfg);
  if (problems.length) throw new UsageError(`invalid config: ${problems.join('; ')}`);
  const total = totalSteps(cfg);
  const stopAt = flagNumber(a, 'stop-at') ?? Infinity;
  const batcher = await openBatcher(data, cfg, resume?.data_state as BatcherState | undefined);
  const gpu = await gpuFor(a, env);
  let pending: ActivationBatch | null = null;
  let trainer: SaeTrainerApi;
  if (resume) trainer = await createTrainer(gpu, cfg, resume.trainer);
  else {
    // The first batch initialises b_dec (SPEC §3) and is then trained on as step 1, as in the app.
    pending = await batcher.next();
    trainer = await createTrainer(gpu, cfg, initWeights(cfg, pending));
  }
  env.err.write(
    `training ${cfg.architecture} d_in ${cfg.d_in} d_sae ${cfg.d_sae} on ${data.label}, ${total} steps, adapter ${gpu.adapter.isSwiftShader ? 'SwiftShader' : gpu.adapter.description || gpu.adapter.vendor}\n`,
  );

  const checkpoint = async () => {
    const state = await trainer.getState();
    const ck: Checkpoint = {
      config: cfg,
      trainer: state,
      data_state: batcher.getState(),
      scaling_factor: batcher.scale,
      extra: { data: data.spec, run_name: runName },
      created_at: new Date().toISOString(),
    };
    writeFileAtomic(checkpointPath(out, state.step), serializeCheckpointParts(ck));
    writeFileAtomic(path.join(out, HISTORY_JSON_FILE), historyToJson(history));
    lastCheckpoint = state.step;
  };
  let lastCheckpoint: number | null = resume ? trainer.step : null;

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    env.err.write('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to quit now)\n');
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const bar = new ProgressBar(total, env.err);
  const startStep = trainer.step;
  let last: StepMetrics | null = null;
  try {
    while (trainer.step < total && trainer.step < stopAt && !interrupted) {
      const batch = pending ?? (await batcher.next());
      pending = null;
      trainer.trainStep(batch);
      const step = trainer.step;
      const isLast = step >= total || step >= stopAt;
      if (step % Math.max(1, cfg.metrics_every) === 0 || isLast) {
        last = await trainer.readMetrics();
        history.train.push(stepRow(last));
        bar.update(step, startStep, {
          loss: last.loss,
          l_recon: last.l_recon,
          alpha: last.alpha,
          l0: last.l0,
        });
      }
      if (cfg.eval_every > 0 && step % cfg.eval_every === 0 && !isLast) {
        const ev = await evaluateTrainer(trainer, () => batcher.heldOutBatches(), data, null);
        history.eval.push({ step, ...numericMetrics(ev) });
      }
      if (cfg.checkpoint_every > 0 && step % cfg.checkpoint_every === 0 && !isLast) await checkpoint();
    }
  } catch (e) {
    // A fault in the middle of a run: say what happened, at which step, and what is safe on disk.
    bar.finish();
    const failure = describeFailure(e, gpu, trainer.step, lastCheckpoint, out);
    env.err.write(`error: ${failure.message}\n`);
    env.out(jsonLine({ command: 'train', status: 'failed', ...failure.json }));
    trainer.destroy();
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar.finish();
  }
  await checkpoint();
  if (trainer.step < total) {
    env.err.write(`stopped at step ${trainer.step} of ${total}; continue with --resume ${out}\n`);
    env.out(jsonLine({ command: 'train', status: 'paused', step: trainer.step, total_steps: total, out }));
    trainer.destroy();
    return interrupted ? 130 : 0;
  }

  const weights = await trainer.getWeights();
  let ev: EvalResult | null = null;
  if (batcher.heldOutWindows > 0) {
    ev = await evaluateTrainer(trainer, () => batcher.heldOutBatches(), data, weights.W_dec);
    history.eval.push({ step: trainer.step, ...numericMetrics(ev) });
  } else env.err.write('no held-out sequences: skipping the final evaluation\n');
  const files = buildSaeFolder({
    weights,
    config: cfg,
    scaling_factor: batcher.scale,
    density: ev ? Float32Array.from(ev.features.density) : null,
    steps: trainer.step,
    tokens_seen: last?.tokens_seen ?? trainer.step * cfg.seqs_per_batch * cfg.context_size,
    provenance: { dataset_path: data.label },
    run_name: runName,
    history,
  });
  writeFolder(out, files);
  if (ev) writeFileAtomic(path.join(out, 'eval.json'), jsonLine(ev));
  trainer.destroy();
  env.out(
    jsonLine({
      command: 'train',
      status: 'done',
      out,
      step: last?.step ?? trainer.step,
      tokens_seen: last?.tokens_seen ?? null,
      ...(ev ? numericMetrics(ev) : {}),
      train: last,
    }),
  );
  return 0;
}

/** The scalar SPEC §6 metrics of an evaluation. */
export function numericMetrics(ev: EvalResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ev.metrics)) if (typeof v === 'number') out[k] = v;
  return out;
}

/**
 * The message for a run that failed mid-way. A lost device (driver reset, GPU removed, another process
 * taking it) makes every later GPU call fail with errors that do not say why; the device's fault log
 * does. Checkpoints already written are complete (written atomically), so the run can continue from the
 * newest one.
 */
export function describeFailure(
  e: unknown,
  gpu: GpuContext,
  step: number,
  lastCheckpoint: number | null,
  out: string,
): { message: string; json: Record<string, unknown> } {
  const lost = gpu.faults.find((f) => f.kind === 'lost');
  const diverged = e instanceof TrainingDivergedError;
  const what = lost
    ? `the GPU device was lost during step ${step} (${lost.message || lost.reason})`
    : diverged
      ? (e as Error).message
      : `training failed at step ${step}: ${e instanceof Error ? e.message : String(e)}`;
  const saved =
    lastCheckpoint === null
      ? 'no checkpoint was written yet (a lower --checkpoint-every saves sooner)'
      : diverged
        ? // Resuming would replay the same batches with the same settings and diverge again.
          `the checkpoint of step ${lastCheckpoint} in ${out} is intact; train again with a lower --lr`
        : `the checkpoint of step ${lastCheckpoint} in ${out} is intact: continue with ` +
          `\`npm run cli -- train --resume ${out}\``;
  return {
    message: `${what}; ${saved}`,
    json: {
      step,
      error: lost ? 'device-lost' : diverged ? 'diverged' : 'error',
      message: what,
      last_checkpoint: lastCheckpoint,
      out,
    },
  };
}
