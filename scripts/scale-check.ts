// Scale check (issue 13; a benchmark script, not CI): a large ReLU SAE with a small batch allocates, takes
// steps, checkpoints, "reloads" (a fresh session restored from the checkpoint file, as the app does
// after a page reload), resumes and exports, through the same RunSession as the app and the CLI, with
// the host memory measured while the checkpoint, the restore and the export stream.
//
//   node --expose-gc scripts/run-ts.mjs scripts/scale-check.ts [--d 2304] [--d-sae 65536] [--batch-seqs 1]
//        [--seq-len 16] [--steps 2] [--no-snapshots] [--compare] [--dir DIR]
// (--compare also measures the old whole-state read, getState(), for contrast.)
//
// The method's own setting is d 2304, d_sae 65536 (W_enc and W_dec 604 MB each, weights + Adam moments
// 3.6 GB, a whole-state checkpoint 12·d·d_sae bytes ≈ 7.2 GB of host memory before this change). Prints
// one JSON line: the sizes, the largest tensor, and for each phase the peak of ArrayBuffer bytes held by
// JS above the idle level (process.memoryUsage().arrayBuffers, sampled at every streamed part after a
// forced GC — run node with --expose-gc), which should stay near one tensor, not the state's size.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSyntheticSource } from '../src/data/synthetic';
import { RunSession, type TrainerSource } from '../src/engine/runSession';
import { runDefaults } from '../src/engine/defaults';
import { streamSaeWeights, WEIGHTS_FILE } from '../src/io/exportSae';
import { checkpointPath, openLatestCheckpoint, writeFileAtomicStream } from '../src/cli/runFolder';
import { adapterName, requestGpu, type GpuContext } from '../src/gpu/device';
import type { ByteSink } from '../src/io/checkpoint';
import type { TrainConfig } from '../src/sae/config';
import { initWeights } from '../src/sae/init';
import { openRunBatcher } from '../src/sae/runBatcher';
import { createTrainer } from '../src/sae/trainer';
import { nodeGpu } from '../bench/nodeGpu';

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (b: number) => Math.round(b / 2 ** 20);

/** Peak of JS-held ArrayBuffer bytes above the level when it was made, sampled at each streamed part. */
function meter() {
  gc?.();
  const base = process.memoryUsage().arrayBuffers;
  let hi = base;
  let lo = base;
  // Live bytes only: with --expose-gc a collection runs before each sample, so buffers already dropped
  // (the tensor before this one) are not counted. The floor is the lowest sample of the phase (what
  // earlier phases left for the collector may only go during it), the peak is measured above it.
  const sample = () => {
    gc?.();
    const now = process.memoryUsage().arrayBuffers;
    hi = Math.max(hi, now);
    lo = Math.min(lo, now);
  };
  return {
    sample,
    /** A sample after the event loop turned once: V8 frees a dead ArrayBuffer's memory after the GC. */
    settle: async () => {
      gc?.();
      await new Promise((r) => setTimeout(r, 20));
      sample();
    },
    wrap: (sink: ByteSink): ByteSink => ({
      // Sampled with this part alive, after the event loop turned (so the part before it is freed).
      write: async (b) => {
        gc?.();
        await new Promise((r) => setTimeout(r, 20));
        sample();
        return sink.write(b);
      },
    }),
    result: () => ({ floor_mb: mb(lo), peak_extra_mb: mb(hi - lo) }),
  };
}

async function wholeState(a: RunSession) {
  const w = meter();
  const st = await a.trainer.getState();
  w.sample();
  return { ...w.result(), step: st.step };
}

export async function main(argv: string[]): Promise<number> {
  const d = arg(argv, 'd', 2304);
  const m = arg(argv, 'd-sae', 65536);
  const S = arg(argv, 'batch-seqs', 1);
  const T = arg(argv, 'seq-len', 16);
  const steps = arg(argv, 'steps', 2);
  const snapshots = !argv.includes('--no-snapshots');
  const di = argv.indexOf('--dir');
  const dir = di >= 0 ? argv[di + 1] : mkdtempSync(path.join(tmpdir(), 'temposae-scale-'));
  const gpu: GpuContext = await requestGpu(await nodeGpu(), 'TempoSAE-scale');
  // A synthetic source of the asked width (the built-in generator, few sequences: the data is not the point).
  const source = createSyntheticSource({
    seed: 1234,
    d,
    F: 64,
    numSequences: Math.max(4 * S, 20),
    seqLen: T,
    docLen: T,
    densityMin: 0.02,
    densityMax: 0.1,
    noise: 0.02,
  });
  const cfg: TrainConfig = {
    ...runDefaults(d),
    architecture: 'relu',
    d_sae: m,
    seqs_per_batch: S,
    context_size: T,
    training_tokens: (steps + 1) * S * T,
    metrics_every: 1,
    eval_every: 0,
    checkpoint_every: 0,
  };
  const report: Record<string, unknown> = {
    adapter: adapterName(gpu.adapter),
    d,
    d_sae: m,
    batch: [S, T],
    snapshots,
    largest_tensor_mb: mb(d * m * 4),
    whole_state_mb: mb(3 * (2 * d * m + 2 * m + d) * 4 + m * 4),
  };
  const t0 = performance.now();
  const sessionFor = (restore: Parameters<typeof RunSession.open>[0]['restore']) =>
    RunSession.open({
      cfg,
      signal: new AbortController().signal,
      restore,
      openData: async (position) => {
        const batcher = await openRunBatcher(source, cfg, position as never);
        return { batcher, next: () => batcher.next() };
      },
      createTrainer: (from: TrainerSource) =>
        createTrainer(
          gpu,
          cfg,
          'firstBatch' in from ? initWeights(cfg, from.firstBatch) : 'state' in from ? from.state : null,
          { snapshots },
        ),
      yieldToHost: () => Promise.resolve(),
      now: () => performance.now(),
      onEvent: (e) => {
        if (e.type === 'metrics') process.stderr.write(`step ${e.metrics.step}: loss ${e.metrics.loss}\n`);
      },
      evaluation: 'inline',
    });

  // 1. Allocate and step.
  const a = (await sessionFor(null))!;
  report.gpu_mb = mb(a.trainer.gpuBytes);
  report.allocate_s = (performance.now() - t0) / 1000;
  let t = performance.now();
  await a.train({ after: () => 'none', stopAt: steps });
  report.step_s = (performance.now() - t) / 1000 / steps;
  // 2. Checkpoint, streamed to the file.
  const ck = meter();
  t = performance.now();
  await writeFileAtomicStream(checkpointPath(dir, a.step), (sink) => a.writeCheckpoint(ck.wrap(sink)));
  report.checkpoint = {
    ...ck.result(),
    s: (performance.now() - t) / 1000,
    file_mb: mb(statSync(checkpointPath(dir, a.step)).size),
  };
  // The whole-state read this replaced (getState), for contrast; in a function of its own, so that
  // nothing of it stays reachable from this (suspended, heap-allocated) async frame afterwards.
  if (argv.includes('--compare')) report.whole_state_checkpoint = await wholeState(a);
  a.trainer.destroy();

  // 3. "Reload": a fresh session restored from the file, one tensor at a time.
  const found = (await openLatestCheckpoint(dir))!;
  const rs = meter();
  const read = found.checkpoint.readTensor.bind(found.checkpoint);
  found.checkpoint.readTensor = async (name) => {
    await rs.settle();
    const x = await read(name);
    rs.sample();
    return x;
  };
  t = performance.now();
  const b = (await sessionFor({ position: found.checkpoint.meta.data_state, checkpoint: found.checkpoint }))!;
  found.close();
  report.restore = { ...rs.result(), s: (performance.now() - t) / 1000, step: b.step };
  // 4. Resume one step, 5. export the weights file streamed.
  await b.train({ after: () => 'none', stopAt: steps + 1 });
  report.resumed_to = b.step;
  const ex = meter();
  t = performance.now();
  await writeFileAtomicStream(path.join(dir, WEIGHTS_FILE), (sink) =>
    streamSaeWeights((name) => b.readParameter(name), cfg, b.batcher!.scale, ex.wrap(sink)),
  );
  report.export = {
    ...ex.result(),
    s: (performance.now() - t) / 1000,
    file_mb: mb(statSync(path.join(dir, WEIGHTS_FILE)).size),
  };
  b.trainer.destroy();
  report.gc = gc
    ? 'forced before each phase'
    : 'not exposed (run node with --expose-gc for a clean baseline)';
  process.stdout.write(JSON.stringify(report) + '\n');
  if (di < 0) rmSync(dir, { recursive: true, force: true });
  return 0;
}
