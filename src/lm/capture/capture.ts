// Capture: packed rows of token ids → the model's activations at one hook, batch by batch, in sequence
// order, into a sink (the SAELens cache writer, or a trainer's stream). Memory is bounded by one batch.
// The forward is pluggable: the WGSL forward (src/lm/gpu/forward.ts, stopping after the hook) for real
// work, the float64 reference for tests and machines without a GPU.
import type { GpuContext } from '../../gpu/device';
import { LmGpuForward } from '../gpu/forward';
import { centerResidual, forwardReference } from '../reference/forward';
import type { PackedRow } from '../text/pack';
import { parseHookName, type LanguageModel } from '../types';

/** Activations [S·T·d] at the hook for S rows of ids [S·T]. */
export type HookForward = (ids: Int32Array, S: number) => Promise<Float32Array>;

export interface HookForwardOptions {
  hook: string;
  /** Sequence length of every row. */
  T: number;
  /**
   * TransformerLens center_writing_weights (what SAELens's GPT-2 SAEs saw): every captured row minus its
   * mean over d_model (SPEC §9). LayerNorm (GPT-2) models only.
   */
  center?: boolean;
}

function checkHook(model: LanguageModel, o: HookForwardOptions): void {
  parseHookName(o.hook, model.config.n_layers);
  if (o.center && model.config.family !== 'gpt2')
    throw new Error(
      `centring (center_writing_weights) applies to LayerNorm models; ${model.config.source} uses RMSNorm`,
    );
  if (!(Number.isInteger(o.T) && o.T >= 1 && o.T <= model.config.n_ctx))
    throw new Error(`context size ${o.T} is not in 1..${model.config.n_ctx} (the model's context)`);
}

/** The float64 reference at the hook (slow: tests and small models). */
export function referenceHookForward(model: LanguageModel, o: HookForwardOptions): HookForward {
  checkHook(model, o);
  return async (ids, S) => {
    const v = forwardReference(model, ids, S, o.T, { capture: [o.hook], logits: false }).hooks.get(o.hook)!;
    return Float32Array.from(o.center ? centerResidual(v, model.config.d_model) : v);
  };
}

/**
 * The WGSL forward at the hook for batches of up to `S` rows (a shorter last batch is padded with
 * token 0 and its extra rows dropped). Call destroy() when done.
 */
export function gpuHookForward(
  ctx: GpuContext,
  model: LanguageModel,
  S: number,
  o: HookForwardOptions & { weights?: 'f32' | 'f16' },
): { forward: HookForward; destroy(): void; gpu: LmGpuForward } {
  checkHook(model, o);
  const gpu = new LmGpuForward(ctx, model, { S, T: o.T, captures: [o.hook], weights: o.weights });
  const d = model.config.d_model;
  const forward: HookForward = async (ids, rows) => {
    if (rows > S) throw new Error(`capture: ${rows} rows in a batch of at most ${S}`);
    const full = rows === S ? ids : new Int32Array(S * o.T);
    if (rows !== S) full.set(ids);
    gpu.forward(full, { capture: [o.hook], stopAt: o.hook, center: o.center });
    const x = (await gpu.readHooks([o.hook])).get(o.hook)!;
    return rows === S ? x : x.slice(0, rows * o.T * d);
  };
  return { forward, destroy: () => gpu.destroy(), gpu };
}

export interface CaptureSink {
  append(x: Float32Array, ids: Int32Array, start: Uint8Array, S: number): Promise<void>;
}

export interface CaptureResult {
  rows: number;
  tokens: number;
  /** Seconds spent in the forward (reading rows and writing excluded). */
  forwardSeconds: number;
}

/** Runs `forward` over the rows in batches of `S`, in order, into `sink`. */
export async function capture(
  rows: AsyncIterable<PackedRow> | Iterable<PackedRow>,
  forward: HookForward,
  S: number,
  T: number,
  sink: CaptureSink,
  opts: { maxRows?: number; onBatch?: (rowsDone: number) => void } = {},
): Promise<CaptureResult> {
  const ids = new Int32Array(S * T);
  const start = new Uint8Array(S * T);
  let n = 0;
  let done = 0;
  let seconds = 0;
  const max = opts.maxRows ?? Infinity;
  const flush = async () => {
    if (n === 0) return;
    const t0 = performance.now();
    const x = await forward(ids.subarray(0, n * T), n);
    seconds += (performance.now() - t0) / 1000;
    await sink.append(x, ids.slice(0, n * T), start.slice(0, n * T), n);
    done += n;
    n = 0;
    opts.onBatch?.(done);
  };
  for await (const row of rows) {
    if (done + n >= max) break;
    if (row.ids.length !== T)
      throw new Error(`capture: a row of ${row.ids.length} tokens, context size ${T}`);
    ids.set(row.ids, n * T);
    start.set(row.start, n * T);
    if (++n === S) await flush();
  }
  await flush();
  return { rows: done, tokens: done * T, forwardSeconds: seconds };
}
