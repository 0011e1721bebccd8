// The WebGPU SAE trainer (SaeTrainerApi, src/sae/trainerApi.ts). All maths runs in WGSL (shaders/*.wgsl,
// recorded by src/sae/gpu/saePasses.ts); this file only orchestrates: it uploads a batch, records one
// command buffer per step, reads metrics back asynchronously when asked, and restores the last good state
// when a readback finds a non-finite loss or parameter.
//
// Public API
//   createTrainer(gpu, cfg, init: SaeWeights | TrainerState | null, options?) → Promise<GpuSaeTrainer>
//       (null: a streamed restore, filled next by writeStateTensor + setCounters; src/io/checkpoint.ts)
//       plans memory first (planMemory in ./memoryPlan.ts) and rejects with ConfigRefusedError naming the
//       bytes and the limit before allocating anything; splits matrices larger than one binding.
//   GpuSaeTrainer = SaeTrainerApi + { gemmDesign, chunks, readRaw(name) }   (readRaw: tests, debugging)
//   TrainingDivergedError { step, terms, restoredStep }   thrown by readMetrics on NaN/Inf
//   TrainerOptions { gemmDesign?: 'blocked' | 'tiled', limits?: Partial<MemoryLimits> }
// Semantics shared with the float64 reference (src/sae/reference/index.ts lists them): N = valid tokens,
// α from this step's L_recon held constant, grad_norm of the projected gradient, tokens_seen counts valid
// tokens, metrics.step = steps done, lr = lrAt(step before). TopK AuxK runs when aux_k_coefficient > 0.
// Divergence: readMetrics compares against a GPU-side copy of weights + Adam state taken at the previous
// good readback (it costs one extra copy of those buffers; planMemory counts it).
import { readBuffer } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import { pickGemmDesign, type GemmDesign } from '../gpu/gemm';
import type { ActivationBatch } from '../data/types';
import { architectureOf } from './architectures';
import { tokensPerStep, validateConfig, type TrainConfig } from './config';
import { paramSizes } from './gpu/bufferSpecs';
import type { ChunkPlan } from './gpu/chunks';
import {
  COUNTERS,
  METRIC,
  METRIC_FLOATS,
  PARAM_NAMES,
  STATE,
  STATE_FLOATS,
  faultTerms,
  packParams,
  PARAMS_BYTES,
  packRowFlags,
} from './gpu/layout';
import { EvalPasses } from './gpu/evalPasses';
import { allocateSaeBuffers, logicalBuffers, type LogicalBuffer, type SaeBuffers } from './gpu/saeBuffers';
import { SaePasses } from './gpu/saePasses';
import { MethodBatchWriter, methodChunkRefusal } from './gpu/passes/methods';
import { planMemory, type MemoryLimits } from './memoryPlan';
import { lrAt } from './schedule';
import type {
  EvalForwardOptions,
  EvalPartials,
  ForwardResult,
  SaeTrainerApi,
  StateTensorInfo,
  TrainerCounters,
  TrainerState,
} from './trainerApi';
import { TOPK_THRESHOLD } from './trainerApi';
import type { AdamState, SaeWeights, StepMetrics } from './types';

/** A readback found NaN/Inf; the trainer has already restored the last good state. */
export class TrainingDivergedError extends Error {
  constructor(
    /** 1-based step at which the first non-finite value appeared. */
    readonly step: number,
    /** The loss terms / parameters that were non-finite (e.g. ['L_recon', 'W_enc']). */
    readonly terms: string[],
    /** Step count of the restored state (the current, diverged step when nothing could be restored). */
    readonly restoredStep: number,
    /** False when the trainer keeps no snapshots (TrainerOptions.snapshots = false). */
    readonly restored = true,
  ) {
    super(
      `Training diverged at step ${step}: non-finite ${terms.join(', ')}. ` +
        (restored
          ? `Restored the last good state (step ${restoredStep}); lower the learning rate or check the data.`
          : `The weights are NOT restored (divergence snapshots are off); reload a checkpoint.`),
    );
    this.name = 'TrainingDivergedError';
  }
}

export class ConfigRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigRefusedError';
  }
}

/** The GPU trainer: the shared API plus what tests and the bench need. */
export interface GpuSaeTrainer extends SaeTrainerApi {
  readonly gemmDesign: GemmDesign;
  /** How the big matrices are split across buffers (src/sae/gpu/chunks.ts). */
  readonly chunks: ChunkPlan;
  /** Raw contents of one of the trainer's buffers (names in src/sae/gpu/bufferSpecs.ts); for tests. */
  readRaw(name: string): Promise<Float32Array>;
  /** Always present on the GPU trainer (optional in SaeTrainerApi). */
  evalForward(batch: ActivationBatch, opts?: EvalForwardOptions): Promise<EvalPartials>;
}

export interface TrainerOptions {
  /** Force a GEMM design (tests run both); default: picked from the adapter. */
  gemmDesign?: GemmDesign;
  /** Extra limits for the memory plan (e.g. a memory budget, or an artificially small binding limit). */
  limits?: Partial<MemoryLimits>;
  /** Keep a GPU copy of weights + Adam state to restore after divergence (default true; costs one copy). */
  snapshots?: boolean;
  /** GPU bytes for batches' f kept by evalForward({ keep }) (default EVAL_KEEP_BYTES, 64 MB). */
  evalKeepBytes?: number;
}

function isState(init: SaeWeights | TrainerState): init is TrainerState {
  return (init as TrainerState).weights !== undefined;
}

function zeroAdam(cfg: TrainConfig): AdamState {
  const z = () => {
    const s = paramSizes(cfg);
    return {
      W_enc: new Float32Array(s.W_enc),
      b_enc: new Float32Array(s.b_enc),
      W_dec: new Float32Array(s.W_dec),
      b_dec: new Float32Array(s.b_dec),
      log_threshold: new Float32Array(s.log_threshold),
    };
  };
  return { step: 0, m: z(), v: z() };
}

/**
 * Build a trainer: plans memory (refusing with the bytes and the limit before any allocation), allocates
 * every buffer and pipeline once, and uploads `init` (fresh weights from initWeights, or a saved state).
 */
export async function createTrainer(
  gpu: GpuContext,
  cfg: TrainConfig,
  init: SaeWeights | TrainerState | null,
  options: TrainerOptions = {},
): Promise<GpuSaeTrainer> {
  const problems = validateConfig(cfg);
  if (problems.length) throw new ConfigRefusedError(`Invalid training config: ${problems.join('; ')}`);
  const limits: MemoryLimits = {
    maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize,
    maxBufferSize: gpu.limits.maxBufferSize,
    ...options.limits,
  };
  const snapshots = options.snapshots ?? true;
  const plan = planMemory(cfg, limits, { snapshots });
  if (!plan.fits) throw new ConfigRefusedError(`This config does not fit the GPU: ${plan.reason}`);
  const methodRefusal = methodChunkRefusal(cfg, plan.chunks!);
  if (methodRefusal) throw new ConfigRefusedError(`This config does not fit the GPU: ${methodRefusal}`);
  const { device } = gpu;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const t = new GpuTrainer(
    gpu,
    cfg,
    options.gemmDesign ?? pickGemmDesign(gpu.adapter.isSwiftShader),
    plan.chunks!,
    snapshots,
    options.evalKeepBytes,
  );
  const state: TrainerState | null = !init
    ? null
    : isState(init)
      ? init
      : {
          step: 0,
          tokens_seen: 0,
          weights: init,
          adam: zeroAdam(cfg),
          alpha: { l_max: null },
          tokens_since_fired: new Float32Array(cfg.d_sae),
        };
  if (state) t.setState(state);
  else t.setCounters({ step: 0, tokens_seen: 0, l_max: null }, true);
  t.snapshot();
  // Surface pipeline/validation/memory errors here rather than as silently wrong numbers later.
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (validation || oom) {
    t.destroy();
    throw new Error(`Could not build the GPU trainer: ${(validation ?? oom)!.message}`);
  }
  return t;
}

class GpuTrainer implements GpuSaeTrainer {
  readonly gpuBytes: number;
  private readonly device: GPUDevice;
  private readonly b: SaeBuffers;
  private readonly allBuffers: GPUBuffer[];
  /** The buffers by logical name, for what addresses them by name (readRaw, state tensors). */
  private readonly byName: Map<string, LogicalBuffer>;
  private readonly passes: SaePasses;
  /** Matryoshka / T-SAE per-batch uniforms and InfoNCE pairs (src/sae/gpu/passes/methods.ts). */
  private readonly methodBatch: MethodBatchWriter;
  /** Held-out evaluation reductions, built on the first evalForward. */
  private evalPasses: EvalPasses | null = null;
  private readonly N: number;
  private readonly rowflags: Uint32Array<ArrayBuffer>;
  private readonly paramsBytes = new ArrayBuffer(PARAMS_BYTES);
  private stepCount = 0;
  private tokensSeen = 0;
  private lastLr = 0;
  private snapshotStep = 0;
  private snapshotTokens = 0;
  private ring = 0;
  private destroyed = false;

  private readonly gpu: GpuContext;
  private faultsSeen: number;

  constructor(
    gpu: GpuContext,
    readonly cfg: TrainConfig,
    readonly gemmDesign: GemmDesign,
    /** How the big matrices are split across buffers (one block each when they fit one binding). */
    readonly chunks: ChunkPlan,
    private readonly snapshots: boolean,
    private readonly evalKeepBytes?: number,
  ) {
    this.gpu = gpu;
    this.faultsSeen = gpu.faults.length;
    this.device = gpu.device;
    this.N = tokensPerStep(cfg);
    this.rowflags = new Uint32Array(this.N);
    const { buffers, all, bytes } = allocateSaeBuffers(this.device, cfg, chunks, snapshots);
    this.b = buffers;
    this.allBuffers = all;
    this.byName = logicalBuffers(buffers);
    this.gpuBytes = bytes;
    this.passes = new SaePasses(this.device, cfg, buffers, gemmDesign, chunks);
    this.methodBatch = new MethodBatchWriter(this.device, cfg, buffers);
  }

  get step(): number {
    return this.stepCount;
  }

  /** BatchTopK family: θ lives in the state buffer (STATE.topk_threshold) and in SaeWeights. */
  private get hasTopkThreshold(): boolean {
    return architectureOf(this.cfg).gpu.activation === 'batchtopk';
  }

  /** The state buffer's values for L_max and θ (α and AuxK slots are rewritten every step). */
  private stateFloats(l_max: number | null, topk_threshold: number | undefined): Float32Array {
    const st = new Float32Array(STATE_FLOATS);
    st[STATE.l_max] = l_max ?? 0;
    st[STATE.has_l_max] = l_max === null ? 0 : 1;
    st[STATE.topk_threshold] = this.hasTopkThreshold ? (topk_threshold ?? 0) : 0;
    return st;
  }

  private checkBatch(batch: ActivationBatch, what: string, exact: boolean): void {
    const rows = batch.S * batch.T;
    if (batch.d !== this.cfg.d_in)
      throw new Error(`${what}: batch width d=${batch.d} does not match the SAE's d_in=${this.cfg.d_in}`);
    if (exact && (batch.S !== this.cfg.seqs_per_batch || batch.T !== this.cfg.context_size))
      throw new Error(
        `${what}: batch is ${batch.S}×${batch.T} but the trainer was built for ` +
          `${this.cfg.seqs_per_batch}×${this.cfg.context_size} (seqs_per_batch × context_size)`,
      );
    if (rows > this.N)
      throw new Error(`${what}: batch has ${rows} rows, more than the ${this.N} the trainer holds`);
    if (batch.x.length !== rows * batch.d || batch.start.length !== rows || batch.valid.length !== rows)
      throw new Error(`${what}: batch arrays do not match S·T=${rows} rows × d=${batch.d}`);
  }

  /** Upload x and row flags (padding the rest of the buffers with invalid rows); returns valid tokens. */
  private upload(batch: ActivationBatch, step: number, lr: number): number {
    const q = this.device.queue;
    const rows = batch.S * batch.T;
    const nValid = packRowFlags(batch.start, batch.valid, this.rowflags);
    q.writeBuffer(this.b.x, 0, batch.x.buffer, batch.x.byteOffset, rows * batch.d * 4);
    q.writeBuffer(this.b.rowflags, 0, this.rowflags);
    this.methodBatch.write(this.rowflags, nValid, batch.T);
    q.writeBuffer(
      this.b.uniform,
      0,
      packParams(this.cfg, { N: this.N, T: batch.T, nValid, lr, step }, this.paramsBytes),
    );
    return nValid;
  }

  trainStep(batch: ActivationBatch): void {
    if (this.destroyed) throw new Error('trainStep: the trainer was destroyed');
    this.checkBatch(batch, 'trainStep', true);
    const lr = lrAt(this.stepCount, this.cfg);
    const nValid = this.upload(batch, this.stepCount + 1, lr);
    const enc = this.device.createCommandEncoder({ label: `sae.step${this.stepCount + 1}` });
    enc.clearBuffer(this.b.counters, 0, 8); // dead count and per-step parameter fault bits
    enc.clearBuffer(this.b.partials);
    const pass = enc.beginComputePass({ label: 'sae.step' });
    this.passes.recordTrainStep(pass);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    this.stepCount++;
    this.tokensSeen += nValid;
    this.lastLr = lr;
  }

  /** Readbacks run one after another so a staging buffer is never mapped twice. */
  private readQueue: Promise<unknown> = Promise.resolve();

  readMetrics(): Promise<StepMetrics> {
    const next = this.readQueue.then(() => this.readMetricsNow());
    this.readQueue = next.catch(() => undefined);
    return next;
  }

  private async readMetricsNow(): Promise<StepMetrics> {
    // Metrics of the most recent step submitted when the copy is recorded.
    const step = this.stepCount;
    const staging = this.b.staging[this.ring];
    this.ring = (this.ring + 1) % 2;
    const enc = this.device.createCommandEncoder({ label: 'sae.readMetrics' });
    enc.copyBufferToBuffer(this.b.metrics, 0, staging, 0, METRIC_FLOATS * 4);
    enc.copyBufferToBuffer(this.b.counters, 0, staging, METRIC_FLOATS * 4, COUNTERS * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = staging.getMappedRange().slice(0);
    staging.unmap();
    // A device fault (validation error, lost device) since the last readback makes every number suspect.
    const faults = this.gpu.faults.slice(this.faultsSeen);
    this.faultsSeen = this.gpu.faults.length;
    if (faults.length)
      throw new Error(`The GPU reported an error during training up to step ${step}: ${faults[0].message}`);
    const mf = new Float32Array(raw, 0, METRIC_FLOATS);
    const counters = new Uint32Array(raw, METRIC_FLOATS * 4, COUNTERS);
    if (counters[2] !== 0) {
      if (!this.snapshots) {
        this.clearFault();
        throw new TrainingDivergedError(counters[3], faultTerms(counters[2]), this.stepCount, false);
      }
      const restored = this.restoreSnapshot();
      throw new TrainingDivergedError(counters[3], faultTerms(counters[2]), restored);
    }
    // Good: remember this state unless more steps were submitted while we waited.
    if (this.stepCount === step && step !== this.snapshotStep) this.snapshot();
    return {
      step,
      tokens_seen: this.tokensSeen,
      l_recon: mf[METRIC.l_recon],
      l_sparse: mf[METRIC.l_sparse],
      l_temp: mf[METRIC.l_temp],
      l_aux: mf[METRIC.l_aux],
      loss: mf[METRIC.loss],
      alpha: mf[METRIC.alpha],
      l_max: mf[METRIC.l_max],
      l0: mf[METRIC.l0],
      dead_count: mf[METRIC.dead_count],
      grad_norm: mf[METRIC.grad_norm],
      l_mat: mf[METRIC.l_mat],
      l_nce: mf[METRIC.l_nce],
      lr: this.lastLr,
    };
  }

  /** The blocks of a logical buffer (`W_enc` → its feature blocks, `pre` → its row blocks, …). */
  private logical(name: string): LogicalBuffer {
    const l = this.byName.get(name);
    if (!l) throw new Error(`no GPU buffer named ${name}`);
    return l;
  }

  /** [live, snapshot] buffer pairs of everything a divergence restore puts back. */
  private statePairs(): [GPUBuffer, GPUBuffer][] {
    const snap = this.b.snapshot;
    if (!snap) return [];
    const pairs: [GPUBuffer, GPUBuffer][] = [];
    const zip = (live: GPUBuffer[], copy: GPUBuffer[] | null) =>
      live.forEach((buf, i) => pairs.push([buf, copy![i]]));
    for (const p of PARAM_NAMES) {
      const set = this.b.param[p];
      zip(set.value, set.snapshot);
      zip(set.adam_m, set.snapshot_m);
      zip(set.adam_v, set.snapshot_v);
    }
    pairs.push([this.b.tokens_since_fired, snap.tokens_since_fired], [this.b.state, snap.state]);
    return pairs;
  }

  /** Copy the live state to the snapshot buffers (GPU-side, no readback). */
  snapshot(): void {
    if (!this.snapshots) return;
    const enc = this.device.createCommandEncoder({ label: 'sae.snapshot' });
    for (const [live, snap] of this.statePairs()) enc.copyBufferToBuffer(live, 0, snap, 0, live.size);
    this.device.queue.submit([enc.finish()]);
    this.snapshotStep = this.stepCount;
    this.snapshotTokens = this.tokensSeen;
  }

  private clearFault(): void {
    const enc = this.device.createCommandEncoder({ label: 'sae.clearFault' });
    enc.clearBuffer(this.b.counters);
    this.device.queue.submit([enc.finish()]);
  }

  private restoreSnapshot(): number {
    const enc = this.device.createCommandEncoder({ label: 'sae.restore' });
    for (const [live, snap] of this.statePairs()) enc.copyBufferToBuffer(snap, 0, live, 0, live.size);
    enc.clearBuffer(this.b.counters);
    this.device.queue.submit([enc.finish()]);
    this.stepCount = this.snapshotStep;
    this.tokensSeen = this.snapshotTokens;
    return this.stepCount;
  }

  async forward(batch: ActivationBatch): Promise<ForwardResult> {
    this.checkBatch(batch, 'forward', false);
    const rows = batch.S * batch.T;
    this.upload(batch, Math.max(1, this.stepCount), 0);
    const enc = this.device.createCommandEncoder({ label: 'sae.forward' });
    const pass = enc.beginComputePass({ label: 'sae.forward' });
    this.passes.recordForward(pass);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const [f, xhat] = await Promise.all([this.read('f'), this.read('xhat')]);
    return { f: f.slice(0, rows * this.cfg.d_sae), xhat: xhat.slice(0, rows * this.cfg.d_in) };
  }

  async evalForward(batch: ActivationBatch, opts?: EvalForwardOptions): Promise<EvalPartials> {
    if (this.destroyed) throw new Error('evalForward: the trainer was destroyed');
    this.checkBatch(batch, 'evalForward', false);
    this.evalPasses ??= new EvalPasses(
      this.device,
      this.cfg,
      this.b,
      this.gemmDesign,
      this.chunks,
      this.evalKeepBytes,
    );
    this.upload(batch, Math.max(1, this.stepCount), 0);
    return this.evalPasses.run(batch, (pass) => this.passes.recordForward(pass), opts);
  }

  /** A logical buffer, assembled from its blocks: W_enc-shaped by columns, the rest by rows. */
  private async read(name: string): Promise<Float32Array> {
    const { blocks, layout } = this.logical(name);
    const data = await Promise.all(
      blocks.map(async (buf) => new Float32Array(await readBuffer(this.device, buf))),
    );
    if (data.length === 1) return data[0];
    if (layout === 'featCols') {
      const { d_in: d, d_sae: m } = this.cfg;
      const out = new Float32Array(d * m);
      this.chunks.featBlocks.forEach((f, i) => {
        for (let j = 0; j < d; j++)
          out.set(data[i].subarray(j * f.feats, (j + 1) * f.feats), j * m + f.feat0);
      });
      return out;
    }
    const out = new Float32Array(data.reduce((a, x) => a + x.length, 0));
    let o = 0;
    for (const x of data) {
      out.set(x, o);
      o += x.length;
    }
    return out;
  }

  /** Write a logical buffer into its blocks (inverse of read). */
  private write(name: string, arr: Float32Array): void {
    const q = this.device.queue;
    const { blocks, layout } = this.logical(name);
    if (blocks.length === 1) {
      q.writeBuffer(blocks[0], 0, arr.buffer, arr.byteOffset, arr.byteLength);
      return;
    }
    if (layout === 'rows') throw new Error(`write: ${name} is split into row blocks (not state)`);
    const { d_in: d, d_sae: m } = this.cfg;
    this.chunks.featBlocks.forEach((f, i) => {
      let block: Float32Array<ArrayBuffer>;
      if (layout === 'featCols') {
        block = new Float32Array(d * f.feats);
        for (let j = 0; j < d; j++)
          block.set(arr.subarray(j * m + f.feat0, j * m + f.feat0 + f.feats), j * f.feats);
      } else block = Float32Array.from(arr.subarray(f.feat0 * d, (f.feat0 + f.feats) * d));
      q.writeBuffer(blocks[i], 0, block);
    });
  }

  readRaw(name: string): Promise<Float32Array> {
    return this.read(name);
  }

  async getWeights(): Promise<SaeWeights> {
    const [W_enc, b_enc, W_dec, b_dec, log_threshold] = await Promise.all(
      PARAM_NAMES.map((p) => this.read(p)),
    );
    const w: SaeWeights = { d_in: this.cfg.d_in, d_sae: this.cfg.d_sae, W_enc, b_enc, W_dec, b_dec };
    if (architectureOf(this.cfg).extraParams.includes('log_threshold')) w.log_threshold = log_threshold;
    if (this.hasTopkThreshold) w.topk_threshold = (await this.read('state'))[STATE.topk_threshold];
    return w;
  }

  async getState(): Promise<TrainerState> {
    const step = this.stepCount;
    const tokens = this.tokensSeen;
    const [weights, m, v, tsf, st] = await Promise.all([
      this.getWeights(),
      Promise.all(PARAM_NAMES.map((p) => this.read(`adam_m_${p}`))),
      Promise.all(PARAM_NAMES.map((p) => this.read(`adam_v_${p}`))),
      this.read('tokens_since_fired'),
      this.read('state'),
    ]);
    const pack = (a: Float32Array[]) => ({
      W_enc: a[0],
      b_enc: a[1],
      W_dec: a[2],
      b_dec: a[3],
      log_threshold: a[4],
    });
    return {
      step,
      tokens_seen: tokens,
      weights,
      adam: { step, m: pack(m), v: pack(v) },
      alpha: { l_max: st[STATE.has_l_max] ? st[STATE.l_max] : null },
      tokens_since_fired: tsf,
    };
  }

  setState(s: TrainerState): void {
    const { cfg } = this;
    const w = s.weights;
    if (w.d_in !== cfg.d_in || w.d_sae !== cfg.d_sae)
      throw new Error(
        `setState: weights are ${w.d_in}×${w.d_sae} but the trainer is ${cfg.d_in}×${cfg.d_sae} (d_in × d_sae)`,
      );
    const sizes = paramSizes(cfg);
    const put = (name: string, data: Float32Array | undefined, expected: number, fill = 0) => {
      const arr = data ?? new Float32Array(expected).fill(fill);
      if (arr.length !== expected)
        throw new Error(`setState: ${name} has ${arr.length} values, expected ${expected}`);
      this.write(name, arr);
    };
    const logTheta = Math.log(cfg.jumprelu_init_threshold);
    for (const p of PARAM_NAMES) {
      put(p, p === 'log_threshold' ? w.log_threshold : w[p], sizes[p], p === 'log_threshold' ? logTheta : 0);
      put(`adam_m_${p}`, s.adam.m[p], sizes[p]);
      put(`adam_v_${p}`, s.adam.v[p], sizes[p]);
    }
    put('tokens_since_fired', s.tokens_since_fired, cfg.d_sae);
    put('state', this.stateFloats(s.alpha.l_max, w.topk_threshold), STATE_FLOATS);
    this.stepCount = s.step;
    this.tokensSeen = s.tokens_seen;
    this.snapshotStep = -1; // the next good readback (or createTrainer) takes a fresh snapshot
  }

  // Streamed checkpoints (src/io/checkpoint.ts streamCheckpoint / restoreStreamed): one state tensor in
  // host memory at a time instead of getState()'s whole TrainerState (12·d·d_sae bytes).
  stateTensors(): StateTensorInfo[] {
    const { d_in: d, d_sae: m } = this.cfg;
    const shapes: Record<string, number[]> = { W_enc: [d, m], b_enc: [m], W_dec: [m, d], b_dec: [d] };
    shapes.log_threshold = [m];
    // The parameters getWeights returns, then Adam's moments of every parameter buffer, as getState.
    const extra = architectureOf(this.cfg).extraParams as readonly string[];
    const weights = PARAM_NAMES.filter((p) => p !== 'log_threshold' || extra.includes(p));
    return [
      ...weights.map((p) => ({ name: p, shape: shapes[p] })),
      // BatchTopK's θ: one float of the state buffer (STATE.topk_threshold), not a trained parameter.
      ...(this.hasTopkThreshold ? [{ name: TOPK_THRESHOLD, shape: [1] }] : []),
      ...PARAM_NAMES.map((p) => ({ name: `adam_m.${p}`, shape: shapes[p] })),
      ...PARAM_NAMES.map((p) => ({ name: `adam_v.${p}`, shape: shapes[p] })),
      { name: 'tokens_since_fired', shape: [m] },
    ];
  }

  private stateBuffer(name: string): string {
    if (!this.stateTensors().some((t) => t.name === name)) throw new Error(`no state tensor named ${name}`);
    return name.replace(/^adam_([mv])\./, 'adam_$1_');
  }

  async readStateTensor(name: string): Promise<Float32Array> {
    if (name === TOPK_THRESHOLD && this.hasTopkThreshold)
      return Float32Array.of((await this.read('state'))[STATE.topk_threshold]);
    return this.read(this.stateBuffer(name));
  }

  async readCounters(): Promise<TrainerCounters> {
    const step = this.stepCount;
    const tokens_seen = this.tokensSeen;
    const st = await this.read('state');
    return { step, tokens_seen, l_max: st[STATE.has_l_max] ? st[STATE.l_max] : null };
  }

  writeStateTensor(name: string, data: Float32Array): void {
    const info = this.stateTensors().find((t) => t.name === name);
    const n = info ? info.shape.reduce((a, b) => a * b, 1) : -1;
    if (data.length !== n)
      throw new Error(`writeStateTensor: ${name} has ${data.length} values, expected ${n}`);
    if (name === TOPK_THRESHOLD) {
      this.device.queue.writeBuffer(this.b.state, STATE.topk_threshold * 4, Float32Array.from(data));
      return;
    }
    this.write(this.stateBuffer(name), data);
  }

  setCounters(c: TrainerCounters, fresh = false): void {
    if (fresh) {
      // What setState puts where a state has no value: θ at its init (a JumpReLU without thresholds).
      this.write(
        'log_threshold',
        new Float32Array(this.cfg.d_sae).fill(Math.log(this.cfg.jumprelu_init_threshold)),
      );
    }
    // L_max only: θ (BatchTopK) came with the state tensors (writeStateTensor('topk_threshold')).
    const st = this.stateFloats(c.l_max, 0);
    this.device.queue.writeBuffer(this.b.state, 0, st.buffer, 0, 2 * 4);
    this.stepCount = c.step;
    this.tokensSeen = c.tokens_seen;
    // The restored state is the one to fall back to after a divergence (as createTrainer does).
    if (!fresh) this.snapshot();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.passes.destroy();
    this.evalPasses?.destroy();
    for (const buf of this.allBuffers) buf.destroy();
  }
}
