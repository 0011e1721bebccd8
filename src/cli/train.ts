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
import type { OpenedCheckpoint } from '../io/checkpoint';
import { buildSaeFolder, HISTORY_JSON_FILE, streamSaeWeights, WEIGHTS_FILE } from '../io/exportSae';
import { emptyHistory, historyFromJson, historyToJson, type MetricHistory } from '../io/history';
import { totalSteps, validateConfig, type TrainConfig } from '../sae/config';
import type { SyntheticPreset } from '../data/synthetic';
import { describeRecommended, runDefaults } from '../engine/defaults';
import { RunSession } from '../engine/runSession';
import { initWeights } from '../sae/init';
import { createTrainer, TrainingDivergedError } from '../sae/trainer';
import type { GpuContext } from '../gpu/device';
import type { SaeTrainerApi } from '../sae/trainerApi';
import type { StepMetrics } from '../sae/types';
import { configFromArgs, configFlagNames, flag, flagNumber, UsageError, type ParsedArgs } from './args';
import { lmSpecFromFlags } from './captureCommand';
import { dataSpecOf, openCliData, type DataSpec, type OpenedData } from './data';
import { gpuFor, jsonLine, type CliEnv } from './env';
import { writeTrainReport } from './inspectCommand';
import { ProgressBar } from './progress';
import {
  checkpointPath,
  openLatestCheckpoint,
  writeFileAtomic,
  writeFileAtomicStream,
  writeFolder,
} from './runFolder';
import { prefixEvalOptions } from '../sae/architectures';

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
    ...prefixEvalOptions(trainer.cfg, () => trainer.getWeights()),
  });
}

function stepRow(m: StepMetrics): Record<string, number> {
  return { ...m };
}

interface Setup {
  cfg: TrainConfig;
  data: OpenedData;
  out: string;
  /** The checkpoint to continue from, its header read (tensors stream in when the trainer is built). */
  resume: { checkpoint: OpenedCheckpoint; close(): void } | null;
  history: MetricHistory;
  runName: string;
  /** Where the data's recommended values stand in for the method's defaults, in words. */
  note?: string;
}

async function setup(a: ParsedArgs, env: CliEnv): Promise<Setup> {
  const resumeDir = flag(a, 'resume');
  // One device for the model's forward (train --model) and the trainer.
  const gpu = async () => (env.gpu ??= await gpuFor(a, env));
  const flagSpec = lmSpecFromFlags(a) ?? dataSpecOf(a);
  if (resumeDir) {
    const found = await openLatestCheckpoint(resumeDir);
    if (!found)
      throw new UsageError(`--resume ${resumeDir}: no readable checkpoint in ${resumeDir}/checkpoints`);
    for (const s of found.skipped) env.err.write(`skipped a damaged checkpoint: ${s}\n`);
    const ck = found.checkpoint.meta;
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
    const data = await openCliData(spec, gpu).catch((e) => {
      found.close();
      throw e;
    });
    let history = emptyHistory();
    try {
      history = historyFromJson(
        readFileSync(path.join(resumeDir, HISTORY_JSON_FILE), 'utf8'),
        HISTORY_JSON_FILE,
      );
    } catch {
      env.err.write('no readable history.json: the metric history restarts at the checkpoint\n');
    }
    const step = ck.step;
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
      resume: found,
      history,
      runName: String(ck.extra?.run_name ?? path.basename(resumeDir)),
    };
  }
  if (!flagSpec) throw new UsageError('train needs --dataset builtin:PRESET or --data FILE...');
  const out = flag(a, 'out');
  if (!out) throw new UsageError('train needs --out DIR');
  const data = await openCliData(flagSpec, gpu);
  const configPath = flag(a, 'config');
  const configJson = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : undefined;
  // The app's defaults for this data (src/engine/defaults.ts): on the built-in data its document-start
  // token and the λ1 and lr recommended for it; flags and --config win.
  const builtin = 'builtin' in flagSpec ? (flagSpec.builtin as SyntheticPreset) : undefined;
  const base: TrainConfig = runDefaults(data.source.d, builtin);
  if (data.docStartTokenIds) base.doc_start_token_ids = data.docStartTokenIds;
  const cfg = configFromArgs(a, base, configJson);
  const given = new Set([
    ...a.flags.keys(),
    ...Object.keys(configJson ?? {}).map((k) => k.replace(/_/g, '-')),
  ]);
  const kept = ['l1-coefficient', 'lr'].filter(
    (f) => !given.has(f) && !(f === 'l1-coefficient' && given.has('l1')),
  );
  if (cfg.d_in !== data.source.d)
    throw new UsageError(`d_in ${cfg.d_in} does not match the data's width ${data.source.d}`);
  return {
    cfg,
    data,
    out,
    resume: null,
    history: emptyHistory(),
    runName: flag(a, 'name') ?? path.basename(path.resolve(out)),
    note: builtin && kept.length ? describeRecommended(builtin) : undefined,
  };
}

export async function trainCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const { cfg, data, out, resume, history, runName, note } = await setup(a, env);
  const problems = validateConfig(cfg);
  if (problems.length) throw new UsageError(`invalid config: ${problems.join('; ')}`);
  const total = totalSteps(cfg);
  const stopAt = flagNumber(a, 'stop-at') ?? Infinity;
  const gpu = await gpuFor(a, env);
  const bar = new ProgressBar(total, env.err);
  let startStep = 0;
  let last: StepMetrics | null = null;
  let lastCheckpoint: number | null = resume ? resume.checkpoint.meta.step : null;
  const extra = { data: data.spec, run_name: runName };

  // The same RunSession as the app (src/engine/runSession.ts): same init, schedule, evaluation and
  // checkpoints. Evaluations run inline (the history lists them in step order) over the whole
  // held-out split, so `eval --split heldout` of the folder reproduces them.
  let session: RunSession | null;
  try {
    session = await RunSession.open({
      cfg,
      signal: new AbortController().signal,
      restore: resume ? { position: resume.checkpoint.meta.data_state, checkpoint: resume.checkpoint } : null,
      openData: async (position) => {
        const batcher = await openBatcher(data, cfg, position as BatcherState | undefined);
        return { batcher, next: () => batcher.next() };
      },
      createTrainer: (from) =>
        createTrainer(
          gpu,
          cfg,
          'firstBatch' in from ? initWeights(cfg, from.firstBatch) : 'state' in from ? from.state : null,
        ),
      yieldToHost: () => Promise.resolve(),
      now: () => performance.now(),
      onEvent: (e) => {
        if (e.type === 'metrics') {
          last = e.metrics;
          history.train.push(stepRow(e.metrics));
          const m = e.metrics;
          bar.update(m.step, startStep, { loss: m.loss, l_recon: m.l_recon, alpha: m.alpha, l0: m.l0 });
        } else if (e.type === 'evaluated')
          history.eval.push({ step: e.evaluation.step, ...numericMetrics(e.evaluation.result) });
        else if (e.type === 'evaluationFailed') env.err.write(`${e.message}\n`);
      },
      saveCheckpoint: async (s) => {
        const step = s.step;
        await writeFileAtomicStream(checkpointPath(out, step), (sink) => s.writeCheckpoint(sink, extra));
        writeFileAtomic(path.join(out, HISTORY_JSON_FILE), historyToJson(history));
        lastCheckpoint = step;
      },
      evaluation: 'inline',
      maxEvalBatches: Infinity,
    });
  } finally {
    resume?.close();
  }
  const s = session!;
  startStep = s.step;
  env.err.write(
    `training ${cfg.architecture} d_in ${cfg.d_in} d_sae ${cfg.d_sae} on ${data.label}, ${total} steps, adapter ${gpu.adapter.isSwiftShader ? 'SwiftShader' : gpu.adapter.description || gpu.adapter.vendor}\n`,
  );
  if (note) env.err.write(`${note}\n`);

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    env.err.write('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to quit now)\n');
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  let end;
  try {
    if (s.batcher!.heldOutWindows === 0) env.err.write('no held-out sequences: skipping the evaluations\n');
    end = await s.train({ after: () => (interrupted ? 'pause' : 'none'), stopAt });
  } catch (e) {
    // A fault in the middle of a run: say what happened, at which step, and what is safe on disk.
    bar.finish();
    const failure = describeFailure(e, gpu, s.step, lastCheckpoint, out);
    env.err.write(`error: ${failure.message}\n`);
    env.out(jsonLine({ command: 'train', status: 'failed', ...failure.json }));
    s.trainer.destroy();
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar.finish();
  }
  const trainer = s.trainer;
  if (end !== 'done') {
    env.err.write(`stopped at step ${trainer.step} of ${total}; continue with --resume ${out}\n`);
    env.out(jsonLine({ command: 'train', status: 'paused', step: trainer.step, total_steps: total, out }));
    trainer.destroy();
    return interrupted ? 130 : 0;
  }

  const ev: EvalResult | null = s.latestEvaluation?.step === trainer.step ? s.latestEvaluation.result : null;
  const done = last as StepMetrics | null;
  // The weights file streams from the GPU one tensor at a time (streamSaeWeights); the rest is small.
  const files = buildSaeFolder({
    weights: null,
    config: cfg,
    scaling_factor: s.batcher!.scale,
    density: ev ? Float32Array.from(ev.features.density) : null,
    steps: trainer.step,
    tokens_seen: done?.tokens_seen ?? trainer.step * cfg.seqs_per_batch * cfg.context_size,
    provenance: { dataset_path: data.label },
    run_name: runName,
    history,
  });
  writeFolder(out, files);
  await writeFileAtomicStream(path.join(out, WEIGHTS_FILE), (sink) =>
    streamSaeWeights((name) => s.readParameter(name), cfg, s.batcher!.scale, sink),
  );
  if (ev) writeFileAtomic(path.join(out, 'eval.json'), jsonLine(ev));
  if (flag(a, 'report') !== undefined)
    await writeTrainReport(a, env, { out, trainer, batcher: s.batcher!, cfg, data, history, runName });
  trainer.destroy();
  env.out(
    jsonLine({
      command: 'train',
      status: 'done',
      out,
      step: done?.step ?? trainer.step,
      tokens_seen: done?.tokens_seen ?? null,
      ...(ev ? numericMetrics(ev) : {}),
      train: done,
      ...(note ? { defaults: note } : {}),
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
