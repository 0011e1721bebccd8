// Held-out evaluation on the GPU (issue 6, SPEC §6): after the trainer's forward passes, reduce f, x̂
// and x of one batch to the sums the metric accumulators keep (EvalSums, src/sae/trainerApi.ts) and, on
// request, gather the K clustered features' activations; read back only those. Kernels:
//   eval_recon    per token ‖x − x̂‖², ‖x‖², ‖x̂‖², x̂·x                        [N, 4]
//   eval_rows     per token L0, L1 and the pair sums against the previous token    [N, 6]   (per row block)
//   eval_xstats   per input dimension Σx, Σ(x − x̄)² over valid tokens             [d, 2]
//   eval_features per feature Σf, Σf², firing by position bin, runs, lag-1 sums    (per row block)
//   eval_gather   traces[k, n] = f[n, ids[k]]                                       [K, rows] (per row block)
// Pipelines, bind groups and output buffers are built once (the trainer builds this object on its first
// evaluation); per batch only the mapped readback buffer is allocated, plus, with `keep`, a copy of the
// batch's f while EVAL_KEEP_BYTES allow (released by the caller), so the clustering traces can be
// gathered after the variances are known without a second forward pass. Works with row blocks
// (src/sae/gpu/chunks.ts): every kernel that reads f runs once per block and adds into the same outputs.
// Not in the trainer's memory plan: the outputs are 4·(m·(2 + P + 5Q) + 10N + 2d + 2T) bytes (13 MB at
// d_sae 16k, T 128; 56 MB at most, the caps of positionBins and autocorrBins), the gather buffers K·N
// floats, the kept copies at most EVAL_KEEP_BYTES.
import evalFeaturesCode from '../../../shaders/eval_features.wgsl?raw';
import evalGatherCode from '../../../shaders/eval_gather.wgsl?raw';
import evalReconCode from '../../../shaders/eval_recon.wgsl?raw';
import evalRowsCode from '../../../shaders/eval_rows.wgsl?raw';
import evalXstatsCode from '../../../shaders/eval_xstats.wgsl?raw';
import { positionBins } from '../../analysis/sparsity';
import { autocorrBins } from '../../analysis/temporal';
import { createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import { grid } from '../../gpu/dispatch';
import type { GemmDesign } from '../../gpu/gemm';
import { bindNamed, createNamedKernel, type NamedKernel } from '../../gpu/kernel';
import type { ActivationBatch } from '../../data/types';
import { tokensPerStep, type TrainConfig } from '../config';
import type { EvalForwardOptions, EvalPartials, KeptFeatures } from '../trainerApi';
import type { ChunkPlan } from './chunks';
import { withSaeStructs } from './wgsl';
import type { SaeBuffers } from './saeBuffers';

interface Op {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  wg: [number, number];
}

/** Invocations per workgroup of the one-invocation-per-item kernels (xstats, features, gather). */
const WG = 64;

/**
 * GPU memory for batches' f kept for the clustering gather (evalForward({ keep })), as the CPU path's
 * forward cache (evaluate.ts cacheBytes): within it the traces need no second forward pass.
 */
export const EVAL_KEEP_BYTES = 64 * 1024 * 1024;

/** Copies `parts` ([name, source, floats]) into one mapped buffer; resolves to views by name. */
async function readParts(
  device: GPUDevice,
  enc: GPUCommandEncoder,
  parts: [string, GPUBuffer, number][],
): Promise<{ f32(name: string): Float32Array; u32(name: string): Uint32Array }> {
  const total = parts.reduce((a, p) => a + p[2], 0);
  const staging = device.createBuffer({
    label: 'sae.eval.readback',
    size: Math.max(4, total * 4),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  let at = 0;
  const where: Record<string, [number, number]> = {};
  for (const [name, src, n] of parts) {
    where[name] = [at, n];
    if (n > 0) enc.copyBufferToBuffer(src, 0, staging, at * 4, n * 4);
    at += n;
  }
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const raw = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return {
    f32: (name) => new Float32Array(raw, where[name][0] * 4, where[name][1]),
    u32: (name) => new Uint32Array(raw, where[name][0] * 4, where[name][1]),
  };
}

export class EvalPasses {
  private readonly device: GPUDevice;
  private readonly N: number;
  private readonly T: number;
  /** Position bins of the firing counts and autocorrelation bins (the accumulators' P and Q). */
  readonly P: number;
  readonly Q: number;
  private readonly out: Record<
    'rowRecon' | 'rowFeat' | 'xStats' | 'featStats' | 'fireByPos' | 'runs' | 'ac',
    GPUBuffer
  >;
  private readonly reduceOps: Op[] = [];
  private readonly gatherPipeline: NamedKernel;
  private readonly gatherParams: GPUBuffer;
  private readonly blocks: GPUBuffer[];
  private gatherIds: GPUBuffer | null = null;
  private traces: GPUBuffer | null = null;
  private gatherOps: Op[] = [];
  private gatherK = 0;
  /** The Block uniform of a kept batch (row0 0, its rows), written before each gather from it. */
  private readonly keptBlock: GPUBuffer;
  private readonly kept = new Set<GPUBuffer>();
  private keptBytes = 0;

  constructor(
    device: GPUDevice,
    private readonly cfg: TrainConfig,
    private readonly b: SaeBuffers,
    design: GemmDesign,
    private readonly chunks: ChunkPlan,
    /** GPU bytes for kept batches (evalForward's `keep`). */
    private readonly keepBytes = EVAL_KEEP_BYTES,
  ) {
    this.device = device;
    const N = (this.N = tokensPerStep(cfg));
    const T = (this.T = cfg.context_size);
    const { d_in: d, d_sae: m } = cfg;
    this.P = positionBins(m, T);
    this.Q = autocorrBins(m, T);
    const buf = (name: string, floats: number) => createStorageBuffer(device, `sae.eval.${name}`, floats * 4);
    this.out = {
      rowRecon: buf('rowRecon', N * 4), // [N, 4]
      rowFeat: buf('rowFeat', N * 6), // [N, 6]
      xStats: buf('xStats', d * 2), // [d, 2]
      featStats: buf('featStats', m * 2), // [m, 2]
      fireByPos: buf('fireByPos', m * this.P), // [m, P] u32
      runs: buf('runs', 2 * T), // [2, T] u32
      ac: buf('autocorr', 5 * this.Q * m), // [5, Q, m]
    };
    this.gatherParams = createUniformBuffer(device, 'sae.eval.gatherParams', 16);
    this.keptBlock = createUniformBuffer(device, 'sae.eval.keptBlock', 32);
    const k = (label: string, code: string, constants: Record<string, number>) =>
      createNamedKernel(device, { label: `sae.eval.${label}`, code: withSaeStructs(code), constants });
    const op = (label: string, kernel: NamedKernel, bufs: Record<string, GPUBuffer>, wg: number): Op => ({
      pipeline: kernel.pipeline,
      bind: bindNamed(device, kernel, `sae.eval.${label}.bind`, { p: b.uniform, ...bufs }),
      wg: grid(wg),
    });
    // Per-row reductions: 256 invocations share a row on real GPUs; on SwiftShader (the 'blocked' GEMM
    // design), where each workgroup and barrier costs CPU time, one invocation per row and 64 rows per
    // workgroup (measured at d_sae 512, 2048 rows: eval_recon 78 → 3 ms, eval_rows 126 → 20 ms).
    const RPW = design === 'tiled' ? 1 : 64;
    const rowWg = design === 'tiled' ? { WG: 256, ROWS: 1 } : { WG: 1, ROWS: RPW };
    const R = chunks.rowBlocks;
    this.blocks = R.map((r, i) => {
      if (r.row0 % T !== 0 || r.rows % T !== 0)
        throw new Error(`evaluation: row block ${i} does not hold whole sequences of ${T} positions`);
      const u = createUniformBuffer(device, `sae.eval.rowBlock${i}`, 32);
      device.queue.writeBuffer(
        u,
        0,
        new Uint32Array([r.row0, r.rows, 0, m, +(i === 0), +(i === R.length - 1), 0, 0]),
      );
      return u;
    });
    const o = this.out;
    this.reduceOps.push(
      op(
        'recon',
        k('recon', evalReconCode, rowWg),
        { x: b.x, xhat: b.xhat, row_recon: o.rowRecon },
        Math.ceil(N / RPW),
      ),
      op(
        'xstats',
        k('xstats', evalXstatsCode, { WG }),
        { x: b.x, rowflags: b.rowflags, xstats: o.xStats },
        Math.ceil(d / WG),
      ),
    );
    const rowsK = k('rows', evalRowsCode, rowWg);
    const featK = k('features', evalFeaturesCode, { P: this.P, Q: this.Q, WG });
    R.forEach((r, ri) => {
      const f = b.f[ri];
      const blk = this.blocks[ri];
      this.reduceOps.push(
        op(`rows.r${ri}`, rowsK, { f, row_feat: o.rowFeat, blk }, Math.ceil(r.rows / RPW)),
        op(
          `features.r${ri}`,
          featK,
          {
            f,
            rowflags: b.rowflags,
            blk,
            feat_stats: o.featStats,
            fire_pos: o.fireByPos,
            runs: o.runs,
            ac: o.ac,
          },
          Math.ceil(m / WG),
        ),
      );
    });
    this.gatherPipeline = k('gather', evalGatherCode, { WG });
  }

  /** (Re)build the gather buffers and bind groups for K features (grows only). */
  private gatherFor(K: number): void {
    if (K <= this.gatherK && this.gatherIds && this.traces) return;
    this.gatherIds?.destroy();
    this.traces?.destroy();
    this.gatherK = K;
    this.gatherIds = createStorageBuffer(this.device, 'sae.eval.gatherIds', K * 4);
    this.traces = createStorageBuffer(this.device, 'sae.eval.traces', K * this.N * 4);
    this.gatherOps = this.chunks.rowBlocks.map((r, ri) => ({
      pipeline: this.gatherPipeline.pipeline,
      bind: this.gatherBind(`sae.eval.gather.r${ri}.bind`, this.b.f[ri], this.blocks[ri]),
      // Enough invocations for K × rows of the block (the kernel bounds-checks the actual K).
      wg: grid(Math.ceil((K * r.rows) / WG)),
    }));
  }

  /** eval_gather's bindings for features `f` of the rows `blk` describes. */
  private gatherBind(label: string, f: GPUBuffer, blk: GPUBuffer): GPUBindGroup {
    return bindNamed(this.device, this.gatherPipeline, label, {
      p: this.b.uniform,
      g: this.gatherParams,
      ids: this.gatherIds!,
      f,
      blk,
      traces: this.traces!,
    });
  }

  /** Checks the ids, sizes the gather buffers and writes the ids and the Gather uniform. */
  private prepareGather(ids: Int32Array, rows: number): void {
    const m = this.cfg.d_sae;
    for (const i of ids)
      if (!(i >= 0 && i < m)) throw new Error(`evalForward: gather feature ${i} is outside 0..${m - 1}`);
    this.gatherFor(ids.length);
    this.device.queue.writeBuffer(this.gatherIds!, 0, Uint32Array.from(ids));
    this.device.queue.writeBuffer(this.gatherParams, 0, new Uint32Array([ids.length, rows, 0, 0]));
  }

  private static dispatch(pass: GPUComputePassEncoder, ops: Op[]): void {
    for (const op of ops) {
      pass.setPipeline(op.pipeline);
      pass.setBindGroup(0, op.bind);
      pass.dispatchWorkgroups(op.wg[0], op.wg[1]);
    }
  }

  /**
   * Record `recordForward` (the trainer's forward passes, after it uploaded the batch), the reductions
   * and/or the gather into one command buffer, submit, and read back the sums. The batch must have the
   * trainer's context_size (P, Q and the row blocks are built for it).
   */
  async run(
    batch: ActivationBatch,
    recordForward: (pass: GPUComputePassEncoder) => void,
    opts: EvalForwardOptions = {},
  ): Promise<EvalPartials> {
    const { T } = this;
    const { d_in: d, d_sae: m } = this.cfg;
    if (batch.T !== T)
      throw new Error(
        `evalForward: the batch has ${batch.T} positions per sequence, the trainer ${T} (context_size)`,
      );
    const rows = batch.S * batch.T;
    const reduce = opts.reduce ?? true;
    const ids = opts.gather;
    const K = ids?.length ?? 0;
    if (ids && K > 0) this.prepareGather(ids, rows);
    const o = this.out;
    const enc = this.device.createCommandEncoder({ label: 'sae.evalForward' });
    if (reduce) for (const key of ['featStats', 'fireByPos', 'runs', 'ac'] as const) enc.clearBuffer(o[key]);
    const pass = enc.beginComputePass({ label: 'sae.evalForward' });
    recordForward(pass);
    EvalPasses.dispatch(pass, [...(reduce ? this.reduceOps : []), ...(K > 0 ? this.gatherOps : [])]);
    pass.end();
    const kept = opts.keep ? this.keep(enc, rows) : undefined;
    const parts: [string, GPUBuffer, number][] = [];
    if (reduce)
      parts.push(
        ['rowRecon', o.rowRecon, rows * 4],
        ['rowFeat', o.rowFeat, rows * 6],
        ['xStats', o.xStats, d * 2],
        ['featStats', o.featStats, m * 2],
        ['fireByPos', o.fireByPos, m * this.P],
        ['runs', o.runs, 2 * T],
        ['ac', o.ac, 5 * this.Q * m],
      );
    if (K > 0) parts.push(['traces', this.traces!, K * rows]);
    const r = await readParts(this.device, enc, parts);
    const res: EvalPartials = {};
    if (reduce)
      res.sums = {
        rows,
        T,
        rowRecon: r.f32('rowRecon'),
        rowFeat: r.f32('rowFeat'),
        xStats: r.f32('xStats'),
        featStats: r.f32('featStats'),
        fireByPos: r.u32('fireByPos'),
        P: this.P,
        runs: r.u32('runs'),
        autocorr: r.f32('ac'),
        Q: this.Q,
      };
    if (ids) res.traces = K > 0 ? r.f32('traces') : new Float32Array(0);
    if (kept) res.kept = kept;
    return res;
  }

  /** Copy the batch's rows of f (from every row block) into a new kept buffer, if the budget allows. */
  private keep(enc: GPUCommandEncoder, rows: number): KeptFeatures | undefined {
    const m = this.cfg.d_sae;
    const bytes = rows * m * 4;
    if (this.keptBytes + bytes > this.keepBytes) return undefined;
    const buf = createStorageBuffer(this.device, 'sae.eval.kept', bytes);
    this.kept.add(buf);
    this.keptBytes += buf.size;
    this.chunks.rowBlocks.forEach((blk, ri) => {
      const n = Math.min(blk.rows, rows - blk.row0);
      if (n > 0) enc.copyBufferToBuffer(this.b.f[ri], 0, buf, blk.row0 * m * 4, n * m * 4);
    });
    let live = true;
    return {
      gather: (ids) => {
        if (!live) return Promise.reject(new Error('evaluation: gather from released features'));
        return this.gatherKept(buf, rows, ids);
      },
      release: () => {
        if (!live) return;
        live = false;
        this.kept.delete(buf);
        this.keptBytes -= buf.size;
        buf.destroy();
      },
    };
  }

  /** eval_gather over a kept batch's f: [K·rows] traces. */
  private async gatherKept(buf: GPUBuffer, rows: number, ids: Int32Array): Promise<Float32Array> {
    const K = ids.length;
    if (K === 0) return new Float32Array(0);
    this.prepareGather(ids, rows);
    const m = this.cfg.d_sae;
    this.device.queue.writeBuffer(this.keptBlock, 0, new Uint32Array([0, rows, 0, m, 1, 1, 0, 0]));
    const bind = this.gatherBind('sae.eval.gatherKept.bind', buf, this.keptBlock);
    const enc = this.device.createCommandEncoder({ label: 'sae.eval.gatherKept' });
    const pass = enc.beginComputePass({ label: 'sae.eval.gatherKept' });
    EvalPasses.dispatch(pass, [
      { pipeline: this.gatherPipeline.pipeline, bind, wg: grid(Math.ceil((K * rows) / WG)) },
    ]);
    pass.end();
    return (await readParts(this.device, enc, [['traces', this.traces!, K * rows]])).f32('traces');
  }

  /** Bytes one batch reads back: the sums, plus K × rows when gathering. */
  readbackBytes(rows: number, K = 0, reduce = true): number {
    const { d_in: d, d_sae: m } = this.cfg;
    const sums = rows * 10 + d * 2 + m * 2 + m * this.P + 2 * this.T + 5 * this.Q * m;
    return ((reduce ? sums : 0) + K * rows) * 4;
  }

  destroy(): void {
    for (const x of Object.values(this.out)) x.destroy();
    for (const u of this.blocks) u.destroy();
    this.gatherParams.destroy();
    this.keptBlock.destroy();
    for (const k of this.kept) k.destroy();
    this.kept.clear();
    this.gatherIds?.destroy();
    this.traces?.destroy();
  }
}
