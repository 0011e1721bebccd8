// One trainer-step case of the bench: our WGSL trainer and the tf.js peer on the same adapter, same
// shapes, same initial weights, same batches, timed the same way; the result is one JSON line.
import { benchBatch } from './batch';
import type { BenchOptions, TrainerCase } from './cases';
import { oursEngine, peerEngine, type BenchEngine, type PeerEngine } from './engines';
import { gflopsPerSecond, stepFlops } from './flops';
import { interleavedWindows } from './timing';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/sae/config';
import type { GpuContext } from '../src/gpu/device';
import { initWeights } from '../src/sae/init';
import type { SaeWeights } from '../src/sae/types';
import type { ActivationBatch } from '../src/data/types';

export interface BenchEnv {
  /** Dawn's GPU object: the peer's adapter comes from it. */
  gpu: GPU;
  /** Our device on the same GPU object. */
  ctx: GpuContext;
  /** The adapter, in words (the same for both engines; each line says whether the peer's matched). */
  adapter: string;
  command: string;
}

/** The run's config for a case: the method's defaults (SPEC §1) at the case's shape (and architecture). */
export function caseConfig(c: TrainerCase, o: Pick<BenchOptions, 'architecture' | 'k'> = {}): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    d_in: c.d,
    d_sae: c.d_sae,
    seqs_per_batch: c.S,
    context_size: c.T,
    ...(o.architecture ? { architecture: o.architecture } : {}),
    ...(o.k ? { k: o.k } : {}),
  };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const round = (v: number, digits: number) => Number(v.toPrecision(digits));

interface Engines {
  ours?: BenchEngine;
  peer?: PeerEngine;
  /** Whether tf.js's adapter is ours (null without a peer). */
  same: boolean | null;
  errors: Record<string, string>;
}

/** Build both engines; one that fails to build becomes an error entry, not a crash. */
async function startEngines(
  env: BenchEnv,
  cfg: TrainConfig,
  init: SaeWeights,
  batches: ActivationBatch[],
  withPeer: boolean,
): Promise<Engines> {
  const r: Engines = { same: null, errors: {} };
  try {
    r.ours = await oursEngine(env.ctx, cfg, init, batches);
  } catch (e) {
    r.errors.ours = message(e);
  }
  if (!withPeer) return r;
  try {
    const p = (r.peer = await peerEngine(env.gpu, cfg, init, batches));
    const a = env.ctx.adapter;
    r.same = (['vendor', 'architecture', 'device', 'description'] as const).every(
      (k) => p.adapter[k] === a[k],
    );
    if (!r.same) r.errors.adapter = `tf.js got ${JSON.stringify(p.adapter)}, ours is ${JSON.stringify(a)}`;
  } catch (e) {
    r.errors.peer = message(e);
  }
  return r;
}

interface Measured {
  /** ms per step of each timed window. */
  windows: { ours?: number[]; peer?: number[] };
  bytes: { ours?: number; peer?: number };
  lossDiff: number | null;
}

/** Alternating timed windows, then the loss cross-check and the memory of each engine. */
async function measure(e: Engines, o: { warmup: number; steps: number; repeats: number }): Promise<Measured> {
  const running = [e.ours, e.peer].filter((x): x is BenchEngine => x !== undefined);
  const m: Measured = { windows: {}, bytes: {}, lossDiff: null };
  try {
    const w = await interleavedWindows(running, o.warmup, o.steps, o.repeats);
    if (e.ours) m.windows.ours = w[running.indexOf(e.ours)];
    if (e.peer) m.windows.peer = w[running.indexOf(e.peer)];
    // Same init, same batches, same number of steps: the last losses must agree (float32 both, other
    // summation orders), or the two engines are not running the same training.
    if (e.ours && e.peer) {
      const [a, b] = [await e.ours.lastLoss(), await e.peer.lastLoss()];
      m.lossDiff = Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
    }
  } catch (err) {
    e.errors.timing = message(err);
  }
  m.bytes = { ours: e.ours?.gpuBytes(), peer: e.peer?.gpuBytes() };
  return m;
}

/**
 * Time our trainer and (unless `peer` is false) the peer on one case, windows alternating between them,
 * and describe the result as one JSON-ready line.
 */
export async function runTrainerCase(
  env: BenchEnv,
  c: TrainerCase,
  o: { warmup: number; steps: number; repeats: number; peer: boolean } & Pick<
    BenchOptions,
    'architecture' | 'k'
  >,
): Promise<Record<string, unknown>> {
  const cfg = caseConfig(c, o);
  const batches = [benchBatch(c.S, c.T, c.d, 1), benchBatch(c.S, c.T, c.d, 2)];
  const e = await startEngines(env, cfg, initWeights(cfg, batches[0]), batches, o.peer);
  let m: Measured;
  try {
    m = await measure(e, o);
  } finally {
    e.ours?.destroy();
    e.peer?.destroy();
  }
  const best = (w?: number[]) => (w?.length ? Math.min(...w) : undefined);
  const [ours, peer] = [best(m.windows.ours), best(m.windows.peer)];
  const gflops = (ms?: number) => (ms ? round(gflopsPerSecond(c.d, c.d_sae, c.tokens, ms), 4) : null);
  const windows = (w?: number[]) => (w ? w.map((v) => round(v, 4)) : null);
  return {
    bench: 'trainer_step',
    command: env.command,
    adapter: env.adapter,
    arch: cfg.architecture,
    ...(cfg.architecture === 'topk' ? { k: cfg.k } : {}),
    d: c.d,
    d_sae: c.d_sae,
    tokens: c.tokens,
    S: c.S,
    T: c.T,
    warmup: o.warmup,
    steps: o.steps,
    repeats: o.repeats,
    gflop_per_step: round(stepFlops(c.d, c.d_sae, c.tokens) / 1e9, 4),
    ms_per_step: ours ? round(ours, 4) : null,
    ms_windows: windows(m.windows.ours),
    gflops: gflops(ours),
    tokens_per_s: ours ? Math.round(c.tokens / (ours / 1000)) : null,
    gpu_bytes: m.bytes.ours ?? null,
    peer: 'tfjs-webgpu',
    peer_version: e.peer?.version ?? null,
    peer_adapter: e.peer ? `${e.peer.adapter.vendor} ${e.peer.adapter.architecture}`.trim() : null,
    same_adapter: e.same,
    peer_ms_per_step: peer ? round(peer, 4) : null,
    peer_ms_windows: windows(m.windows.peer),
    peer_gflops: gflops(peer),
    peer_gpu_bytes: m.bytes.peer ?? null,
    loss_rel_diff: m.lossDiff === null ? null : Number(m.lossDiff.toPrecision(2)),
    speedup: ours && peer && e.same ? round(peer / ours, 3) : null,
    ...(Object.keys(e.errors).length ? { errors: e.errors } : {}),
  };
}
