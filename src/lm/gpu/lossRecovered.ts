// Loss recovered on the GPU (SPEC §10; the maths and SAELens's conventions are in src/lm/lossRecovered.ts).
// The head of the measurement: from the final normed hidden states h [N, d] of three forwards over the
// same tokens (clean, SAE-spliced, zero-ablated), unembed one vocabulary chunk at a time
// (z = h·W_U[v0 : v0 + cols]ᵀ, an NT GemmOp per run and chunk) and fold each chunk into per-token
// running CE/KL state (shaders/lm_ce_kl.wgsl) for the pairs (clean, spliced) and (clean, ablated).
// Only [N, cols] logits per run exist at any time (cols ≤ vocabChunk, and ≤ the binding limit), and
// only the states [2, N, 8] come back. Buffers, GEMMs and bind groups are built once per shape;
// a batch writes its targets and records.
import ceKlCode from '../../../shaders/lm_ce_kl.wgsl?raw';
import { createBufferWithData, createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import type { GpuContext } from '../../gpu/device';
import { grid } from '../../gpu/dispatch';
import { GemmOp, pickGemmDesign, type GemmDesign } from '../../gpu/gemm';
import { bindNamed, createNamedKernel, type NamedKernel } from '../../gpu/kernel';
import type { ActivationBatch } from '../../data/types';
import type { TrainConfig } from '../../sae/config';
import { createTrainer } from '../../sae/trainer';
import type { SaeTrainerApi } from '../../sae/trainerApi';
import type { SaeWeights } from '../../sae/types';
import {
  ignoredTokenIds,
  keepMask,
  LossRecoveredAccumulator,
  nextTokenTargets,
  probeTokens,
  spliceReconstruction,
  type LossRecoveredMetrics,
  type ProbeToken,
} from '../lossRecovered';
import { argmax } from '../reference/forward';
import { CE_KL_STATE, ceKlFinish, type CeKlChunk } from '../twins/ceKl';
import { type LanguageModel, parseHookName } from '../types';
import { LmGpuForward } from './forward';

/** Vocabulary columns per chunk unless the caller or the binding limit says fewer (8192·N·4 bytes per run). */
export const DEFAULT_VOCAB_CHUNK = 8192;

/** Workgroup shape of lm_ce_kl.wgsl: lanes per row (a power of two) × rows per workgroup. */
export interface CeKlShape {
  WG: number;
  ROWS: number;
}

/** 256 lanes per row on real GPUs; one lane per row, 64 rows a workgroup on SwiftShader (as eval_recon). */
export function ceKlShape(isSwiftShader: boolean): CeKlShape {
  return isSwiftShader ? { WG: 1, ROWS: 64 } : { WG: 256, ROWS: 1 };
}

/** A chunk of lm_ce_kl.wgsl plus where its rows start in the two logits buffers. */
export interface CeKlDispatch extends CeKlChunk {
  off_c?: number;
  off_n?: number;
}

/**
 * One (clean, new) pair of lm_ce_kl.wgsl over a fixed list of chunks: a uniform and bind group per
 * chunk, made here; record(pass, k) folds chunk k into `state` [rows, 8].
 */
export class CeKlKernel {
  private readonly pipeline: GPUComputePipeline;
  private readonly uniforms: GPUBuffer[] = [];
  private readonly binds: GPUBindGroup[] = [];
  private readonly wg: [number, number];

  constructor(
    device: GPUDevice,
    readonly label: string,
    readonly chunks: CeKlDispatch[],
    buffers: { zc: GPUBuffer; zn: GPUBuffer; targets: GPUBuffer; state: GPUBuffer },
    shape: CeKlShape,
  ) {
    if (!(shape.WG >= 1 && (shape.WG & (shape.WG - 1)) === 0))
      throw new Error(`${label}: lanes per row ${shape.WG} is not a power of two`);
    const kernel: NamedKernel = createNamedKernel(device, {
      label,
      code: ceKlCode,
      constants: { WG: shape.WG, ROWS: shape.ROWS },
    });
    this.pipeline = kernel.pipeline;
    const rows = chunks[0]?.rows ?? 0;
    for (const [k, c] of chunks.entries()) {
      if (c.rows !== rows) throw new Error(`${label}: chunk ${k} has ${c.rows} rows, chunk 0 ${rows}`);
      if (c.ld < c.cols) throw new Error(`${label}: chunk ${k} row stride ${c.ld} < ${c.cols} columns`);
      const u = createUniformBuffer(device, `${label}.chunk${k}`, 32);
      device.queue.writeBuffer(
        u,
        0,
        Uint32Array.from([c.rows, c.cols, c.ld, c.v0, c.off_c ?? 0, c.off_n ?? 0, 0, 0]),
      );
      this.uniforms.push(u);
      this.binds.push(bindNamed(device, kernel, `${label}.bind${k}`, { p: u, ...buffers }));
    }
    this.wg = grid(Math.ceil(rows / shape.ROWS));
  }

  record(pass: GPUComputePassEncoder, k: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.binds[k]);
    pass.dispatchWorkgroups(this.wg[0], this.wg[1]);
  }

  destroy(): void {
    for (const u of this.uniforms) u.destroy();
  }
}

/** Rows row0 … row0 + rows − 1 of the unembedding W_U [vocab, d], in one GPU buffer from its start. */
export interface UnembedPart {
  buffer: GPUBuffer;
  row0: number;
  rows: number;
}

/** W_U [vocab, d] uploaded in parts that each fit one storage binding. */
export function uploadUnembedding(
  gpu: GpuContext,
  W_U: Float32Array,
  vocab: number,
  d: number,
): UnembedPart[] {
  if (W_U.length !== vocab * d) throw new Error(`W_U has ${W_U.length} values, vocab·d = ${vocab * d}`);
  const perPart = Math.max(1, Math.floor(gpu.limits.maxStorageBufferBindingSize / (4 * d)));
  const parts: UnembedPart[] = [];
  for (let row0 = 0; row0 < vocab; row0 += perPart) {
    const rows = Math.min(perPart, vocab - row0);
    const data = W_U.subarray(row0 * d, (row0 + rows) * d);
    parts.push({
      buffer: createBufferWithData(gpu.device, `lm.lossRecovered.W_U${parts.length}`, data),
      row0,
      rows,
    });
  }
  return parts;
}

/** Vocabulary chunks: at most maxCols columns, never across two W_U parts. */
export function planVocabChunks(
  parts: UnembedPart[],
  vocab: number,
  maxCols: number,
): { v0: number; cols: number; part: number }[] {
  const out: { v0: number; cols: number; part: number }[] = [];
  let next = 0;
  for (const [i, p] of parts.entries()) {
    if (p.row0 !== next) throw new Error(`W_U parts: part ${i} starts at row ${p.row0}, expected ${next}`);
    for (let v0 = p.row0; v0 < p.row0 + p.rows; v0 += maxCols)
      out.push({ v0, cols: Math.min(maxCols, p.row0 + p.rows - v0), part: i });
    next = p.row0 + p.rows;
  }
  if (next !== vocab) throw new Error(`W_U parts cover rows 0..${next - 1}, the vocabulary has ${vocab}`);
  return out;
}

/** Per-token results of one batch: CE at positions with a target (NaN elsewhere), KL at every position. */
export interface GpuTokenLosses {
  ceClean: Float64Array;
  ceSae: Float64Array;
  ceAbl: Float64Array;
  klSae: Float64Array;
  klAbl: Float64Array;
}

export interface LossHeadOptions {
  /** Vocabulary columns per chunk (default DEFAULT_VOCAB_CHUNK, fewer when the binding limit needs). */
  vocabChunk?: number;
  design?: GemmDesign;
  shape?: CeKlShape;
}

/**
 * The chunked unembedding and CE/KL accumulation for fixed hidden-state buffers [rows, d] of the
 * three runs. record() adds every chunk's GEMMs and reductions to a compute pass; readTokens() maps
 * the two states back and finishes them.
 */
export class LossRecoveredHead {
  readonly chunks: { v0: number; cols: number; part: number }[];
  private readonly device: GPUDevice;
  private readonly gemms: GemmOp[][] = [];
  private readonly pairs: CeKlKernel[];
  private readonly logits: GPUBuffer[];
  private readonly states: GPUBuffer[];
  private readonly targetsBuf: GPUBuffer;
  private targets: Uint32Array<ArrayBuffer>;

  constructor(
    gpu: GpuContext,
    readonly rows: number,
    readonly d: number,
    readonly vocab: number,
    hidden: { clean: GPUBuffer; sae: GPUBuffer; abl: GPUBuffer },
    W_U: UnembedPart[],
    opts: LossHeadOptions = {},
  ) {
    const device = (this.device = gpu.device);
    const N = rows;
    const byBinding = Math.floor(gpu.limits.maxStorageBufferBindingSize / (4 * N));
    const maxCols = Math.max(1, Math.min(opts.vocabChunk ?? DEFAULT_VOCAB_CHUNK, byBinding, vocab));
    this.chunks = planVocabChunks(W_U, vocab, maxCols);
    const widest = Math.max(...this.chunks.map((c) => c.cols));
    const design = opts.design ?? pickGemmDesign(gpu.adapter.isSwiftShader);
    const names = ['clean', 'sae', 'abl'] as const;
    this.logits = names.map((n) =>
      createStorageBuffer(device, `lm.lossRecovered.logits.${n}`, N * widest * 4),
    );
    for (const [k, c] of this.chunks.entries()) {
      const part = W_U[c.part];
      const shape = { layout: 'NT' as const, M: N, N: c.cols, K: this.d, offB: (c.v0 - part.row0) * this.d };
      this.gemms.push(
        names.map(
          (n, i) =>
            new GemmOp(
              device,
              `lm.lossRecovered.unembed.${n}.${k}`,
              design,
              shape,
              hidden[n],
              part.buffer,
              this.logits[i],
            ),
        ),
      );
    }
    this.targets = new Uint32Array(N);
    this.targetsBuf = createStorageBuffer(device, 'lm.lossRecovered.targets', N * 4);
    this.states = [0, 1].map((i) =>
      createStorageBuffer(device, `lm.lossRecovered.state.${names[i + 1]}`, N * CE_KL_STATE * 4),
    );
    const dispatches = this.chunks.map((c) => ({ rows: N, cols: c.cols, ld: c.cols, v0: c.v0 }));
    const shape = opts.shape ?? ceKlShape(gpu.adapter.isSwiftShader);
    this.pairs = [1, 2].map(
      (i) =>
        new CeKlKernel(
          device,
          `lm.lossRecovered.ceKl.${names[i]}`,
          dispatches,
          { zc: this.logits[0], zn: this.logits[i], targets: this.targetsBuf, state: this.states[i - 1] },
          shape,
        ),
    );
  }

  /** Next-token targets [rows] of the batch (NO_TARGET where none); every id must be < vocab. */
  setTargets(targets: Uint32Array): void {
    if (targets.length !== this.rows)
      throw new Error(`loss head: ${targets.length} targets for ${this.rows} rows`);
    this.targets = new Uint32Array(targets);
    this.device.queue.writeBuffer(this.targetsBuf, 0, this.targets);
  }

  /** Every chunk: three unembedding GEMMs, then the two CE/KL folds (dispatches run in order). */
  record(pass: GPUComputePassEncoder): void {
    for (let k = 0; k < this.chunks.length; k++) {
      for (const g of this.gemms[k]) g.record(pass);
      for (const p of this.pairs) p.record(pass, k);
    }
  }

  async readTokens(): Promise<GpuTokenLosses> {
    const N = this.rows;
    const bytes = N * CE_KL_STATE * 4;
    const staging = this.device.createBuffer({
      label: 'lm.lossRecovered.readback',
      size: 2 * bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder({ label: 'lm.lossRecovered.readback' });
    enc.copyBufferToBuffer(this.states[0], 0, staging, 0, bytes);
    enc.copyBufferToBuffer(this.states[1], 0, staging, bytes, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const sae = ceKlFinish(raw.subarray(0, N * CE_KL_STATE), this.targets, N);
    const abl = ceKlFinish(raw.subarray(N * CE_KL_STATE), this.targets, N);
    return { ceClean: sae.ceClean, ceSae: sae.ceNew, ceAbl: abl.ceNew, klSae: sae.kl, klAbl: abl.kl };
  }

  destroy(): void {
    for (const row of this.gemms) for (const g of row) g.destroy();
    for (const p of this.pairs) p.destroy();
    for (const b of [...this.logits, ...this.states, this.targetsBuf]) b.destroy();
  }
}

/**
 * The SAE's x̂ for a hook's activations x [S·T·d] (the model's own units in and out; any input scaling
 * undone). Any SAE the app holds fits behind this: see trainerReconstruct.
 */
export type ReconstructFn = (x: Float32Array, S: number, T: number, d: number) => Promise<Float32Array>;

/** The hook's rows as an SAE batch on s·x: every row starts a sequence, every token valid. */
function saeBatch(x: Float32Array, scale: number, S: number, T: number, d: number): ActivationBatch {
  const start = new Uint8Array(S * T);
  for (let s = 0; s < S; s++) start[s * T] = 1;
  return {
    S,
    T,
    d,
    x: scale === 1 ? x : x.map((v) => v * scale),
    start,
    valid: new Uint8Array(S * T).fill(1),
    seqIndex: Int32Array.from({ length: S }, (_, i) => i),
  };
}

/**
 * x̂ from a GPU SAE trainer whose weights act on s·x (s = the run's scaling_factor; 1 for imported
 * folders, whose weights take raw activations): x̂ = SAE(s·x)/s, as SAELens applies and then undoes
 * the norm scaling in get_recons_loss. The batch must fit the trainer: T = its context_size, S ≤ its
 * seqs_per_batch.
 */
export function trainerReconstruct(
  trainer: Pick<SaeTrainerApi, 'forward' | 'cfg'>,
  scale = 1,
): ReconstructFn {
  return async (x, S, T, d) => {
    if (T !== trainer.cfg.context_size || S > trainer.cfg.seqs_per_batch || d !== trainer.cfg.d_in)
      throw new Error(
        `the SAE's trainer takes ${trainer.cfg.seqs_per_batch}×${trainer.cfg.context_size}×${trainer.cfg.d_in}, the model gives ${S}×${T}×${d}`,
      );
    const { xhat } = await trainer.forward(saeBatch(x, scale, S, T, d));
    return scale === 1 ? xhat : xhat.map((v) => v / scale);
  };
}

export interface LossRecoveredGpuOptions {
  S: number;
  T: number;
  /** Token ids whose positions are left out (default: the model's pad, EOS and BOS). */
  ignore?: number[];
  /**
   * TransformerLens center_writing_weights (SPEC §9): the SAE reads x − mean over d_model, as SAELens's
   * GPT-2 SAEs were trained. Its x̂ is spliced in as it is: every LayerNorm ignores a per-token
   * constant, so the logits are those of the processed model (ignored positions keep the centred x,
   * the same thing for the same reason). Refused for RMSNorm models.
   */
  center?: boolean;
  vocabChunk?: number;
  design?: GemmDesign;
  /** A binding limit below the adapter's (tests force the forward's matrix splits with it). */
  bindLimit?: number;
  /** The forward's projection weights in f32 (default) or f16 (src/lm/gpu/forward.ts). */
  weights?: 'f32' | 'f16';
}

/** What one batch contributed: per-token values and the mask. */
export interface LossRecoveredBatch extends GpuTokenLosses {
  keep: Uint8Array;
}

/**
 * Loss recovered over batches of S rows of T tokens on the GPU forward (src/lm/gpu/forward.ts): per
 * batch a clean forward capturing the hook, the SAE on the captured x, a spliced forward and an
 * ablated one (started at the hook when it is a residual-stream hook, patched otherwise), each final
 * hidden state copied aside; then the chunked head. metrics() is over every batch added.
 */
export class LossRecoveredGpu {
  readonly forward: LmGpuForward;
  readonly head: LossRecoveredHead;
  readonly ignore: number[];
  private readonly device: GPUDevice;
  private readonly hidden: { clean: GPUBuffer; sae: GPUBuffer; abl: GPUBuffer };
  private readonly patchBuf: GPUBuffer;
  private readonly zeros: GPUBuffer;
  private readonly acc = new LossRecoveredAccumulator();
  private readonly resid: boolean;
  private ownUnembed: UnembedPart[] = [];

  constructor(
    gpu: GpuContext,
    readonly model: LanguageModel,
    readonly hook: string,
    readonly opts: LossRecoveredGpuOptions,
  ) {
    const c = model.config;
    const { point } = parseHookName(hook, c.n_layers);
    if (opts.center && c.family !== 'gpt2')
      throw new Error(
        `${c.source}: centring the residual stream is for LayerNorm models (GPT-2), not RMSNorm`,
      );
    this.resid = point.startsWith('hook_resid');
    this.ignore = opts.ignore ?? ignoredTokenIds(c);
    this.device = gpu.device;
    this.forward = new LmGpuForward(gpu, model, {
      S: opts.S,
      T: opts.T,
      vocabChunk: opts.vocabChunk,
      design: opts.design,
      bindLimit: opts.bindLimit,
      weights: opts.weights,
      captures: [hook],
    });
    const N = this.forward.N;
    const bytes = N * c.d_model * 4;
    const buf = (label: string) => createStorageBuffer(gpu.device, `lm.lossRecovered.${label}`, bytes);
    this.hidden = { clean: buf('h.clean'), sae: buf('h.sae'), abl: buf('h.abl') };
    this.patchBuf = buf('spliced');
    this.zeros = buf('zeros'); // WebGPU buffers start zeroed and this one is never written
    // The forward's W_U when it is f32 rows [vocab, d]; with f16 weights it is stored transposed as packed
    // halves (src/lm/gpu/forward.ts), which this head's f32 NT GEMM cannot read, so W_U is uploaded
    // again in f32 (the loss head then unembeds in f32 while the blocks use f16 weights).
    const u = this.forward.unembed;
    const parts = u.f16
      ? (this.ownUnembed = uploadUnembedding(gpu, model.weights.W_U, c.vocab_size, c.d_model))
      : u.spans.map((s, i) => ({ buffer: u.blocks[i], row0: s.start, rows: s.count }));
    this.head = new LossRecoveredHead(gpu, N, c.d_model, c.vocab_size, this.hidden, parts, {
      vocabChunk: opts.vocabChunk,
      design: opts.design,
    });
  }

  /** One batch of S·T token ids: three forwards, the SAE in between, the head; adds to the metrics. */
  async addBatch(ids: Int32Array, reconstruct: ReconstructFn): Promise<LossRecoveredBatch> {
    const { S, T } = this.opts;
    const c = this.model.config;
    const d = c.d_model;
    const N = S * T;
    const targets = nextTokenTargets(ids, S, T, c.vocab_size);
    const keep = keepMask(ids, this.ignore);
    const fwd = this.forward;
    const hBytes = N * d * 4;

    fwd.writeIds(ids);
    let enc = this.device.createCommandEncoder({ label: 'lm.lossRecovered.clean' });
    // With `center`, the capture is centred on the GPU as TransformerLens's processed model has it.
    fwd.encodeForward(enc, { capture: [this.hook], center: this.opts.center });
    enc.copyBufferToBuffer(fwd.hFinal, 0, this.hidden.clean, 0, hBytes);
    this.device.queue.submit([enc.finish()]);
    const x = (await fwd.readHooks([this.hook])).get(this.hook)!;

    const xhat = await reconstruct(x, S, T, d);
    if (xhat.length !== N * d)
      throw new Error(`the SAE returned ${xhat.length} values for ${N}×${d} activations`);
    for (let i = 0; i < xhat.length; i++)
      if (!Number.isFinite(xhat[i]))
        throw new Error(`the SAE's reconstruction is not finite at ${i} (${xhat[i]})`);
    this.device.queue.writeBuffer(
      this.patchBuf,
      0,
      Float32Array.from(spliceReconstruction(x, xhat, keep, d)),
    );

    this.head.setTargets(targets);
    enc = this.device.createCommandEncoder({ label: 'lm.lossRecovered.spliced' });
    const run = (value: GPUBuffer, into: GPUBuffer) => {
      // A residual-stream hook holds the whole state: start there and skip the blocks before it.
      fwd.encodeForward(
        enc,
        this.resid
          ? { start: { hook: this.hook, buffer: value } }
          : { patch: { hook: this.hook, buffer: value } },
      );
      enc.copyBufferToBuffer(fwd.hFinal, 0, into, 0, hBytes);
    };
    run(this.patchBuf, this.hidden.sae);
    run(this.zeros, this.hidden.abl);
    const pass = enc.beginComputePass({ label: 'lm.lossRecovered.head' });
    this.head.record(pass);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const t = await this.head.readTokens();
    this.acc.add(t, keep, S, T);
    return { ...t, keep };
  }

  metrics(): LossRecoveredMetrics {
    return this.acc.metrics();
  }

  destroy(): void {
    this.head.destroy();
    this.forward.destroy();
    for (const b of [...Object.values(this.hidden), this.patchBuf, this.zeros]) b.destroy();
    for (const p of this.ownUnembed) p.buffer.destroy();
  }
}

/** An SAE the app holds, as the evaluation needs it: weights on s·x, their config, and s. */
export interface HeldSae {
  weights: SaeWeights;
  config: TrainConfig;
  /** The run's input scaling s (1 for imported folders: their weights take raw activations). */
  scaling_factor: number;
}

export interface EvaluateLossRecoveredOptions extends Omit<LossRecoveredGpuOptions, 'S' | 'T'> {
  /** Rows per forward (default 8, fewer when there are fewer rows). */
  batchRows?: number;
  /** Called after each batch with the rows done so far. */
  onBatch?: (rowsDone: number, rows: number) => void;
  /** Checked before each batch: an aborted evaluation frees its GPU objects and rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * Loss recovered of one SAE at one hook over R packed rows of T tokens (ids [R·T]): batches of
 * `batchRows` rows, then one smaller batch for the remainder (each batch size gets its own forward; the
 * SAE runs on a trainer built for that batch shape, with the weights as they are).
 */
export async function evaluateLossRecovered(
  gpu: GpuContext,
  model: LanguageModel,
  hook: string,
  sae: HeldSae,
  ids: Int32Array,
  T: number,
  opts: EvaluateLossRecoveredOptions = {},
): Promise<LossRecoveredMetrics> {
  if (!(Number.isInteger(T) && T >= 2))
    throw new Error(`loss recovered needs rows of at least 2 tokens (got ${T})`);
  if (ids.length === 0 || ids.length % T !== 0)
    throw new Error(`loss recovered: ${ids.length} token ids are not whole rows of ${T}`);
  if (sae.weights.d_in !== model.config.d_model)
    throw new Error(
      `the SAE reads ${sae.weights.d_in}-wide activations, ${hook} of ${model.config.source} is ${model.config.d_model} wide`,
    );
  const R = ids.length / T;
  const S = Math.min(opts.batchRows ?? 8, R);
  const acc = new LossRecoveredAccumulator();
  const sizes = [{ S, rows: Math.floor(R / S) * S }];
  if (R % S) sizes.push({ S: R % S, rows: R % S });
  let row = 0;
  for (const size of sizes) {
    const cfg: TrainConfig = {
      ...sae.config,
      seqs_per_batch: size.S,
      context_size: T,
      normalize_activations: 'none',
    };
    const trainer = await createTrainer(gpu, cfg, sae.weights);
    const ev = new LossRecoveredGpu(gpu, model, hook, { ...opts, S: size.S, T });
    try {
      const reconstruct = trainerReconstruct(trainer, sae.scaling_factor);
      for (const end = row + size.rows; row < end; row += size.S) {
        opts.signal?.throwIfAborted();
        const b = await ev.addBatch(ids.subarray(row * T, (row + size.S) * T), reconstruct);
        acc.add(b, b.keep, size.S, T);
        opts.onBatch?.(row + size.S, R);
      }
    } finally {
      ev.destroy();
      trainer.destroy();
    }
  }
  return acc.metrics();
}

export interface ProbeOptions extends Omit<LossRecoveredGpuOptions, 'S' | 'T'> {
  /** Features listed per token (default 8). */
  topK?: number;
}

/**
 * The live probe for one row of token ids: the SAE's features per token, its reconstruction error, and
 * the CE and KL change with x̂ spliced in at `hook` (the same masking as loss recovered: BOS/EOS/pad
 * positions keep their x). Feature values are in the SAE's own units (on s·x).
 */
export async function probeText(
  gpu: GpuContext,
  model: LanguageModel,
  hook: string,
  sae: HeldSae,
  ids: Int32Array,
  opts: ProbeOptions = {},
): Promise<ProbeToken[]> {
  const T = ids.length;
  if (T < 1) throw new Error('the probe needs at least one token');
  const cfg: TrainConfig = {
    ...sae.config,
    seqs_per_batch: 1,
    context_size: T,
    normalize_activations: 'none',
  };
  const trainer = await createTrainer(gpu, cfg, sae.weights);
  const ev = new LossRecoveredGpu(gpu, model, hook, { ...opts, S: 1, T });
  try {
    const s = sae.scaling_factor;
    let seen: { x: Float32Array; xhat: Float32Array; f: Float32Array } | null = null;
    const b = await ev.addBatch(ids, async (x, S, TT, d) => {
      const r = await trainer.forward(saeBatch(x, s, S, TT, d));
      const xhat = s === 1 ? r.xhat : r.xhat.map((v) => v / s);
      seen = { x, xhat, f: r.f };
      return xhat;
    });
    const got = seen as { x: Float32Array; xhat: Float32Array; f: Float32Array } | null;
    if (!got) throw new Error('probe: the SAE was not run');
    return probeTokens({
      ids,
      ...got,
      d: model.config.d_model,
      m: sae.weights.d_sae,
      ceClean: b.ceClean,
      ceSae: b.ceSae,
      klSae: b.klSae,
      keep: b.keep,
      topK: opts.topK,
    });
  } finally {
    ev.destroy();
    trainer.destroy();
  }
}

export interface SteerOptions {
  /** The feature whose decoder row is added. */
  feature: number;
  /** Multiple of the decoder row added at every position (in the SAE's units of f). */
  alpha: number;
  /** New tokens to generate. */
  steps: number;
  /** Stop before emitting one of these ids. */
  stopAt?: number[];
  design?: GemmDesign;
}

/**
 * Steering: greedy (temperature 0) continuation of a prompt with α·W_dec[feature] added to `hook` at
 * every position, in the activation's own units (W_dec/s for weights on s·x). One forward object of
 * T = prompt + steps positions serves every step: attention is causal, so the positions after the
 * current one (filled with the last token) change nothing before it. Per step: a forward capturing the
 * hook, the row added on the CPU, the steered forward from the hook, and the logits of the current
 * position only (LmGpuForward.readLogitsRows). α = 0 is the model's own greedy continuation.
 */
export async function steerGreedy(
  gpu: GpuContext,
  model: LanguageModel,
  hook: string,
  sae: HeldSae,
  promptIds: Int32Array,
  o: SteerOptions,
): Promise<Int32Array> {
  const c = model.config;
  const { point } = parseHookName(hook, c.n_layers);
  const d = c.d_model;
  const V = c.vocab_size;
  const m = sae.weights.d_sae;
  if (!(Number.isInteger(o.feature) && o.feature >= 0 && o.feature < m))
    throw new Error(`steer: feature ${o.feature} is outside 0..${m - 1}`);
  if (sae.weights.d_in !== d) throw new Error(`steer: the SAE is ${sae.weights.d_in} wide, the model ${d}`);
  if (promptIds.length < 1) throw new Error('steer: the prompt needs at least one token');
  const T = Math.min(promptIds.length + o.steps, c.n_ctx);
  const row = sae.weights.W_dec.subarray(o.feature * d, (o.feature + 1) * d);
  const add = Float32Array.from(row, (v) => (o.alpha * v) / sae.scaling_factor);
  const fwd = new LmGpuForward(gpu, model, { S: 1, T, design: o.design, captures: [hook] });
  const steered = createStorageBuffer(gpu.device, 'lm.steer.values', T * d * 4);
  const ids = new Int32Array(T);
  ids.set(promptIds.subarray(0, T));
  const out: number[] = [];
  try {
    for (let t = promptIds.length - 1; t < T - 1 && out.length < o.steps; t++) {
      ids.fill(ids[t], t + 1);
      fwd.writeIds(ids);
      let enc = gpu.device.createCommandEncoder({ label: 'lm.steer.capture' });
      fwd.encodeForward(enc, { capture: [hook], stopAt: hook });
      gpu.device.queue.submit([enc.finish()]);
      const x = (await fwd.readHooks([hook])).get(hook)!;
      for (let n = 0; n < T; n++) for (let j = 0; j < d; j++) x[n * d + j] += add[j];
      gpu.device.queue.writeBuffer(steered, 0, x.buffer as ArrayBuffer, x.byteOffset, x.byteLength);
      enc = gpu.device.createCommandEncoder({ label: 'lm.steer.forward' });
      const value = { hook, buffer: steered };
      fwd.encodeForward(enc, point.startsWith('hook_resid') ? { start: value } : { patch: value });
      gpu.device.queue.submit([enc.finish()]);
      // The first maximum on ties, as llama2.c's argmax and generateGreedy.
      const best = argmax(await fwd.readLogitsRows([t]), 0, V);
      if (o.stopAt?.includes(best)) break;
      out.push(best);
      ids[t + 1] = best;
    }
  } finally {
    fwd.destroy();
    steered.destroy();
  }
  return Int32Array.from(out);
}
