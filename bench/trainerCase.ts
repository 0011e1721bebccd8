// One trainer-step case of the bench: our WGSL trainer and the tf.js peer on the same adapter, same
// shapes, same initial weights, same batches, timed the same way; the result is one JSON line.
import { benchBatch } from './batch';
import type { TrainerCase } from './cases';
import { oursEngine, peerEngine, type BenchEngine, type PeerEngine } from './engines';
import { gflopsPerSecond, stepFlops } from './flops';
import { interleavedWindows } from './timing';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/sae/config';
import type { GpuContext } from '../src/gpu/device';
import { initWeights } from '../src/sae/init';

export interface BenchEnv {
  /** Dawn's GPU object: the peer's adapter comes from it. */
  gpu: GPU;
  /** Our device on the same GPU object. */
  ctx: GpuContext;
  /** The adapter, in words (the same for both engines; each line says whether the peer's matched). */
  adapter: string;
  command: string;
}

/** The run's config for a case: the method's defaults (SPEC §1) at the case's shape. */
export function caseConfig(c: TrainerCase): TrainConfig {
  return { ...DEFAULT_CONFIG, d_in: c.d, d_sae: c.d_sae, seqs_per_batch: c.S, context_size: c.T };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const round = (v: number, digits: number) => Number(v.toPrecision(digits));

/**
 * Time our trainer and (unless `peer` is false) the peer on one case, windows alternating between them;
 * an engine that fails to build or step becomes an `errors` field, not a crash.
 */
export async function runTrainerCase(
  env: BenchEnv,
  c: TrainerCase,
  o: { warmup: number; steps: number; repeats: number; peer: boolean },
): Promise<Record<string, unknown>> {
  const cfg = caseConfig(c);
  const batches = [benchBatch(c.S, c.T, c.d, 1), benchBatch(c.S, c.T, c.d, 2)];
  const init = initWeights(cfg, batches[0]);
  const errors: Record<string, string> = {};
  let ours: BenchEngine | undefined;
  let peer: PeerEngine | undefined;
  let same: boolean | null = null;
  let best: { ours?: number; peer?: number; oursWindows?: number[]; peerWindows?: number[] } = {};
  const bytes: { ours?: number; peer?: number } = {};
  let lossDiff: number | null = null;
  try {
    try {
      ours = await oursEngine(env.ctx, cfg, init, batches);
    } catch (e) {
      errors.ours = message(e);
    }
    if (o.peer) {
      try {
        peer = await peerEngine(env.gpu, cfg, init, batches);
        const a = env.ctx.adapter;
        same = (['vendor', 'architecture', 'device', 'description'] as const).every(
          (k) => peer!.adapter[k] === a[k],
        );
        if (!same) errors.adapter = `tf.js got ${JSON.stringify(peer.adapter)}, ours is ${JSON.stringify(a)}`;
      } catch (e) {
        errors.peer = message(e);
      }
    }
    const running = [ours, peer].filter((e): e is BenchEngine => e !== undefined);
    try {
      const w = await interleavedWindows(running, o.warmup, o.steps, o.repeats);
      const of = (e: BenchEngine | undefined) => (e ? w[running.indexOf(e)] : undefined);
      best = {
        oursWindows: of(ours),
        peerWindows: of(peer),
        ours: ours && Math.min(...of(ours)!),
        peer: peer && Math.min(...of(peer)!),
      };
    } catch (e) {
      errors.timing = message(e);
    }
    // Same init, same batches, same number of steps: the last losses must agree (float32 vs float32,
    // different summation orders), or the two engines are not running the same training.
    if (ours && peer && !errors.timing) {
      const [a, b] = [await ours.lastLoss(), await peer.lastLoss()];
      lossDiff = Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
    }
    bytes.ours = ours?.gpuBytes();
    bytes.peer = peer?.gpuBytes();
  } finally {
    ours?.destroy();
    peer?.destroy();
  }
  const flop = stepFlops(c.d, c.d_sae, c.tokens);
  const gflops = (ms?: number) => (ms ? round(gflopsPerSecond(c.d, c.d_sae, c.tokens, ms), 4) : null);
  const windows = (w?: number[]) => (w ? w.map((v) => round(v, 4)) : null);
  return {
    bench: 'trainer_step',
    command: env.command,
    adapter: env.adapter,
    arch: cfg.architecture,
    d: c.d,
    d_sae: c.d_sae,
    tokens: c.tokens,
    S: c.S,
    T: c.T,
    warmup: o.warmup,
    steps: o.steps,
    repeats: o.repeats,
    gflop_per_step: round(flop / 1e9, 4),
    ms_per_step: best.ours ? round(best.ours, 4) : null,
    ms_windows: windows(best.oursWindows),
    gflops: gflops(best.ours),
    tokens_per_s: best.ours ? Math.round(c.tokens / (best.ours / 1000)) : null,
    gpu_bytes: bytes.ours ?? null,
    peer: 'tfjs-webgpu',
    peer_version: peer?.version ?? null,
    peer_adapter: peer ? `${peer.adapter.vendor} ${peer.adapter.architecture}`.trim() : null,
    same_adapter: same,
    peer_ms_per_step: best.peer ? round(best.peer, 4) : null,
    peer_ms_windows: windows(best.peerWindows),
    peer_gflops: gflops(best.peer),
    peer_gpu_bytes: bytes.peer ?? null,
    loss_rel_diff: lossDiff === null ? null : Number(lossDiff.toPrecision(2)),
    speedup: best.ours && best.peer && same ? round(best.peer / best.ours, 3) : null,
    ...(Object.keys(errors).length ? { errors } : {}),
  };
}
