// The language model's forward pass on the GPU over S sequences of T tokens (SPEC §9), the WGSL twin of
// src/lm/reference/forward.ts. Buffers, pipelines, bind groups and GEMM uniforms are built once per
// (model, S, T); a forward only records: one command buffer, one submit, readbacks asynchronous.
//
//   x = W_E[ids] (+ W_pos[t])                               embedding gather, per vocabulary block
//   per block L (x is updated in place; the five hooks are copies taken at these points):
//     hook_resid_pre    x
//     h = norm1(x);  q, k, v = h·W_Q + b_Q, h·W_K + b_K, h·W_V + b_V     (GEMMs, bias in the epilogue)
//     rotary on q, k (Llama);  z = causal GQA attention(q, k, v)
//     hook_attn_out     attn_out = z·W_O + b_O
//     hook_resid_mid    x += attn_out
//     h = norm2(x);  up = h·W_in + b_in;  GPT-2: up = gelu_new(up);  Llama: up = silu(h·W_gate)·up
//     hook_mlp_out      mlp_out = up·W_out + b_out
//     hook_resid_post   x += mlp_out
//   h_final = norm_f(x);  logits chunk c = h_final·W_U[v0 : v0+rows]ᵀ   (NT GEMM, on demand per chunk;
//                                                                      with f16 weights an NN GEMM on W_Uᵀ)
//
// At every hook a patch (a GPU buffer replacing the value, e.g. an SAE's x̂) is copied in first, then a
// capture copies the value out, as the reference does. `start` begins at a residual-stream hook from a
// given buffer, skipping the embedding and earlier blocks; `stopAt` ends after a hook, skipping later
// blocks and the final norm.
import { createBufferWithData, createStorageBuffer, readBuffer } from '../../gpu/buffers';
import type { GpuContext } from '../../gpu/device';
import { GemmOp, pickGemmDesign, type GemmDesign } from '../../gpu/gemm';
import { checkLanguageModel } from '../check';
import { ropeTable } from '../twins/rope';
import { HOOK_POINTS, parseHookName, type HookPoint, type LanguageModel } from '../types';
import {
  addOp,
  attentionOp,
  centerOp,
  embedF16Op,
  embedOp,
  geluOp,
  normOp,
  ropeOp,
  swigluOp,
  type LmOp,
} from './kernels';
import { packF16Rows } from './f16Weights';
import { gemmF16Op } from './gemmF16';
import { planLmMemory, type LmLimits, type LmMemoryPlan, type LogitsChunk, type Span } from './plan';

export interface LmGpuOptions {
  S: number;
  T: number;
  /** Most vocabulary rows per logits chunk (default 8192). */
  vocabChunk?: number;
  /** A binding limit below the adapter's (tests force the matrix splits with it). */
  bindLimit?: number;
  memoryBudgetBytes?: number;
  /** GEMM design (default: the adapter's, src/gpu/gemm.ts pickGemmDesign). */
  design?: GemmDesign;
  /**
   * Norms one row per invocation (default on SwiftShader, whose barriers are slow) or a workgroup per row
   * (default elsewhere). With design 'tiled' and false, SwiftShader runs what a real GPU runs (tests).
   */
  normRowPerInvocation?: boolean;
  /** Hooks to make capture buffers for now (others are made on first capture). */
  captures?: string[];
  /**
   * 'f16': every weight matrix (projections, embedding, unembedding) stored as packed halves, half the
   * memory, decoded by shaders/lm_gemm_f16w.wgsl and lm_embed.wgsl (core WGSL: any adapter). W_pos,
   * norms, biases, activations and all arithmetic stay f32. Default 'f32'.
   */
  weights?: 'f32' | 'f16';
}

export interface EncodeOptions {
  /** Hook names whose values to copy into their capture buffers (read with readHooks). */
  capture?: string[];
  /** Replace one hook's value with a buffer of [S·T, d_model] f32 and continue from it. */
  patch?: { hook: string; buffer: GPUBuffer };
  /** Start at a residual-stream hook (resid_pre / resid_mid / resid_post) with this value. */
  start?: { hook: string; buffer: GPUBuffer };
  /** Stop after this hook: later blocks and the final norm are skipped (logits are then unavailable). */
  stopAt?: string;
  /**
   * Centre every captured hook's rows over d_model, as TransformerLens's center_writing_weights makes
   * them (what SAELens's GPT-2 SAEs were trained on; SPEC §9). LayerNorm models only. The forward itself
   * is unchanged (LayerNorm ignores the constant); only the copies are centred.
   */
  center?: boolean;
}

/** Index of a hook point inside a block, in forward order. */
const POINT_ORDER: Record<HookPoint, number> = Object.fromEntries(
  HOOK_POINTS.map((p, i) => [p, i]),
) as Record<HookPoint, number>;
/** Forward order: block L, point order within the block (resid_pre 0 … resid_post 4). */
const position = (layer: number, point: HookPoint) => layer * HOOK_POINTS.length + POINT_ORDER[point];

/** A projection's column blocks on the GPU, and the GEMMs that apply it. */
interface Projection {
  blocks: GPUBuffer[];
  spans: Span[];
  bias: GPUBuffer | null;
  /** Row stride of each stored block in elements (f16 rows are padded to even). */
  ld: number[];
}

/** A projection's GEMM, f32 (src/gpu/gemm.ts) or f16-packed weights (gemmF16.ts). */
type Gemm = GemmOp | LmOp;

interface BlockOps {
  norm1: LmOp;
  qkv: Gemm[];
  rope: LmOp[];
  attention: LmOp;
  outProj: Gemm[];
  addAttn: LmOp;
  norm2: LmOp;
  up: Gemm[];
  act: LmOp;
  down: Gemm[];
  addMlp: LmOp;
}

/** Records compute work and buffer copies into one encoder, opening and closing passes as needed. */
class Recorder {
  private pass: GPUComputePassEncoder | null = null;
  constructor(readonly enc: GPUCommandEncoder) {}
  run(ops: (LmOp | Gemm)[]): void {
    this.pass ??= this.enc.beginComputePass({ label: 'lm.forward' });
    for (const op of ops) op.record(this.pass);
  }
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    this.end();
    this.enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
  }
  end(): void {
    this.pass?.end();
    this.pass = null;
  }
}

export class LmGpuForward {
  readonly plan: LmMemoryPlan;
  readonly S: number;
  readonly T: number;
  /** Tokens per forward (S·T). */
  readonly N: number;
  readonly design: GemmDesign;
  /** [N] token ids (u32). */
  readonly ids: GPUBuffer;
  /** [N, d] residual stream, updated in place. */
  readonly x: GPUBuffer;
  /** [N, d] final-normed residual: the logits are h_final·W_Uᵀ. */
  readonly hFinal: GPUBuffer;
  /** [N, rows] logits of the chunk last encoded (row-major with row stride = that chunk's rows). */
  readonly logits: GPUBuffer;
  readonly logitsChunks: LogitsChunk[];
  /**
   * W_U on the GPU, one buffer per vocabulary block (W_E's own buffers when tied): f32 [rows, d] (the
   * logits are an NT product), or with f16 weights packed halves stored transposed [d, ld] (`f16`, `ld`).
   */
  readonly unembed: { blocks: GPUBuffer[]; spans: Span[]; f16: boolean; ld: number[] };
  private readonly device: GPUDevice;
  private readonly owned: GPUBuffer[] = [];
  private readonly ops: { destroy(): void }[] = [];
  private readonly attnOut: GPUBuffer;
  private readonly mlpOut: GPUBuffer;
  private readonly embed: LmOp[];
  private readonly blocks: BlockOps[];
  private readonly finalNorm: LmOp;
  private readonly logitsOps: Gemm[];
  private readonly captures = new Map<string, GPUBuffer>();
  private readonly centerOps = new Map<string, LmOp>();
  private readonly bytesPerRow: number;

  constructor(
    ctx: GpuContext,
    readonly model: LanguageModel,
    opts: LmGpuOptions,
  ) {
    checkLanguageModel(model);
    const c = model.config;
    const w = model.weights;
    const { S, T } = opts;
    if (!(Number.isInteger(S) && S >= 1 && Number.isInteger(T) && T >= 1))
      throw new Error(`LmGpuForward: S and T must be positive integers (got ${S}, ${T})`);
    const limits: LmLimits = {
      maxStorageBufferBindingSize: Math.min(
        ctx.limits.maxStorageBufferBindingSize,
        opts.bindLimit ?? Infinity,
      ),
      maxBufferSize: ctx.limits.maxBufferSize,
      memoryBudgetBytes: opts.memoryBudgetBytes,
    };
    const untied = w.W_U !== w.W_E;
    const f16 = opts.weights === 'f16';
    this.plan = planLmMemory(c, S, T, limits, {
      weightBytes: f16 ? 2 : 4,
      vocabChunk: opts.vocabChunk,
      captures: opts.captures?.length ?? 0,
      untied,
    });
    if (!this.plan.fits) throw new Error(`${c.source}: ${this.plan.reason}`);
    for (const name of opts.captures ?? []) parseHookName(name, c.n_layers);

    const device = (this.device = ctx.device);
    this.S = S;
    this.T = T;
    const N = (this.N = S * T);
    const d = c.d_model;
    this.bytesPerRow = d * 4;
    const design = (this.design = opts.design ?? pickGemmDesign(ctx.adapter.isSwiftShader));
    const gpt2 = c.family === 'gpt2';
    // SwiftShader: norms one row per invocation (its workgroup barriers are slow; shaders/lm_norm.wgsl).
    const perRow = opts.normRowPerInvocation ?? ctx.adapter.isSwiftShader;
    const H = c.n_heads;
    const Hkv = c.n_kv_heads;
    const hd = c.head_dim;
    const qd = H * hd;
    const kvd = Hkv * hd;

    const buffer = (label: string, bytes: number) =>
      this.own(createStorageBuffer(device, `lm.${label}`, bytes));
    const upload = (label: string, data: Float32Array) =>
      this.own(createBufferWithData(device, `lm.${label}`, data));
    const op = <O extends { destroy(): void }>(o: O) => (this.ops.push(o), o);

    // Weights.
    // W_E / W_U by vocabulary blocks: f32 rows [count, d], or f16 transposed [d, ld] (packed halves).
    const vocabLd: number[] = [];
    const vocabRows = (label: string, W: Float32Array) =>
      this.plan.vocabBlocks.map((b, i) => {
        const rows = W.subarray(b.start * d, (b.start + b.count) * d);
        if (!f16) return upload(`${label}#${i}`, rows);
        const t = new Float32Array(d * b.count);
        for (let r = 0; r < b.count; r++) for (let j = 0; j < d; j++) t[j * b.count + r] = rows[r * d + j];
        const packed = packF16Rows(t, d, b.count);
        vocabLd[i] = packed.ld;
        return this.own(createBufferWithData(device, `lm.${label}#${i}`, packed.words));
      });
    const W_E = vocabRows('W_E', w.W_E);
    const W_U = untied ? vocabRows('W_U', w.W_U) : W_E;
    this.unembed = { blocks: W_U, spans: this.plan.vocabBlocks, f16, ld: f16 ? vocabLd : [] };
    const W_pos = w.W_pos ? upload('W_pos', w.W_pos.subarray(0, T * d)) : null;
    const projection = (
      label: string,
      W: Float32Array,
      b: Float32Array | null,
      nIn: number,
      nOut: number,
    ) => {
      const spans = this.plan.columnBlocks(nIn, nOut);
      const ld: number[] = [];
      const blocks = spans.map((s, i) => {
        const block = new Float32Array(nIn * s.count);
        for (let r = 0; r < nIn; r++)
          block.set(W.subarray(r * nOut + s.start, r * nOut + s.start + s.count), r * s.count);
        if (!f16) {
          ld.push(s.count);
          return upload(`${label}#${i}`, block);
        }
        const packed = packF16Rows(block, nIn, s.count);
        ld.push(packed.ld);
        return this.own(createBufferWithData(device, `lm.${label}#${i}`, packed.words));
      });
      return { blocks, spans, bias: b ? upload(`${label}.bias`, b) : null, ld };
    };
    const vec = (label: string, v: Float32Array | null) => (v ? upload(label, v) : null);

    // Activations.
    this.ids = buffer('ids', N * 4);
    this.x = buffer('x', N * d * 4);
    const h = buffer('h', N * d * 4);
    const q = buffer('q', N * qd * 4);
    const k = buffer('k', N * kvd * 4);
    const v = buffer('v', N * kvd * 4);
    const z = buffer('z', N * qd * 4);
    this.attnOut = buffer('attn_out', N * d * 4);
    this.mlpOut = buffer('mlp_out', N * d * 4);
    const up = buffer('up', N * c.d_mlp * 4);
    const gate = gpt2 ? null : buffer('gate', N * c.d_mlp * 4);
    this.hFinal = buffer('h_final', N * d * 4);
    this.logits = buffer('logits', N * this.plan.logitsChunkRows * 4);
    for (const name of opts.captures ?? []) this.captureBuffer(name);

    /** x·W (+ b) for a projection, one GEMM per column block writing its columns of `out`. */
    const gemms = (label: string, A: GPUBuffer, P: Projection, nIn: number, nOut: number, out: GPUBuffer) =>
      P.spans.map((s, i) => {
        const shape = {
          layout: 'NN',
          M: N,
          N: s.count,
          K: nIn,
          offC: s.start,
          ldc: nOut,
          offBias: s.start,
        } as const;
        const bias = P.bias ?? undefined;
        return op(
          f16
            ? gemmF16Op(device, `lm.${label}#${i}`, { ...shape, ldb: P.ld[i] }, A, P.blocks[i], out, bias)
            : new GemmOp(device, `lm.${label}#${i}`, design, shape, A, P.blocks[i], out, bias),
        );
      });

    this.embed = this.plan.vocabBlocks.map((b, i) => {
      const s = { N, T, d, v0: b.start, rows: b.count };
      return op(
        f16
          ? embedF16Op(device, `lm.embed#${i}`, { ...s, ld: vocabLd[i] }, this.ids, W_E[i], W_pos, this.x)
          : embedOp(device, `lm.embed#${i}`, s, this.ids, W_E[i], W_pos, this.x),
      );
    });
    let ropeCos: GPUBuffer | null = null;
    let ropeSin: GPUBuffer | null = null;
    if (!gpt2) {
      const t = ropeTable(T, hd, c.rope_theta);
      ropeCos = upload('rope.cos', Float32Array.from(t.cos));
      ropeSin = upload('rope.sin', Float32Array.from(t.sin));
    }
    const interleaved = c.rope_style === 'interleaved';
    this.blocks = w.blocks.map((b, l) => {
      const p = `blocks.${l}.`;
      const Q = projection(p + 'W_Q', b.W_Q, b.b_Q, d, qd);
      const K = projection(p + 'W_K', b.W_K, b.b_K, d, kvd);
      const V = projection(p + 'W_V', b.W_V, b.b_V, d, kvd);
      const O = projection(p + 'W_O', b.W_O, b.b_O, qd, d);
      const In = projection(p + 'W_in', b.W_in, b.b_in, d, c.d_mlp);
      const Gate = b.W_gate ? projection(p + 'W_gate', b.W_gate, null, d, c.d_mlp) : null;
      const Out = projection(p + 'W_out', b.W_out, b.b_out, c.d_mlp, d);
      const ln1 = [upload(p + 'ln1_w', b.ln1_w), vec(p + 'ln1_b', b.ln1_b)] as const;
      const ln2 = [upload(p + 'ln2_w', b.ln2_w), vec(p + 'ln2_b', b.ln2_b)] as const;
      return {
        norm1: op(normOp(device, p + 'ln1', N, d, c.norm_eps, this.x, ln1[0], ln1[1], h, perRow)),
        qkv: [
          ...gemms(p + 'q', h, Q, d, qd, q),
          ...gemms(p + 'k', h, K, d, kvd, k),
          ...gemms(p + 'v', h, V, d, kvd, v),
        ],
        rope: gpt2
          ? []
          : [
              op(
                ropeOp(
                  device,
                  p + 'rope.q',
                  { N, T, nHeads: H, headDim: hd, interleaved },
                  ropeCos!,
                  ropeSin!,
                  q,
                ),
              ),
              op(
                ropeOp(
                  device,
                  p + 'rope.k',
                  { N, T, nHeads: Hkv, headDim: hd, interleaved },
                  ropeCos!,
                  ropeSin!,
                  k,
                ),
              ),
            ],
        attention: op(
          attentionOp(device, p + 'attn', { S, T, nHeads: H, nKv: Hkv, headDim: hd }, q, k, v, z),
        ),
        outProj: gemms(p + 'o', z, O, qd, d, this.attnOut),
        addAttn: op(addOp(device, p + 'add_attn', N * d, this.x, this.attnOut)),
        norm2: op(normOp(device, p + 'ln2', N, d, c.norm_eps, this.x, ln2[0], ln2[1], h, perRow)),
        up: [
          ...gemms(p + 'up', h, In, d, c.d_mlp, up),
          ...(Gate ? gemms(p + 'gate', h, Gate, d, c.d_mlp, gate!) : []),
        ],
        act: gate
          ? op(swigluOp(device, p + 'swiglu', N * c.d_mlp, gate, up))
          : op(geluOp(device, p + 'gelu', N * c.d_mlp, up)),
        down: gemms(p + 'down', up, Out, c.d_mlp, d, this.mlpOut),
        addMlp: op(addOp(device, p + 'add_mlp', N * d, this.x, this.mlpOut)),
      };
    });
    const lnf = [upload('ln_final_w', w.ln_final_w), vec('ln_final_b', w.ln_final_b)] as const;
    this.finalNorm = op(
      normOp(device, 'lm.ln_final', N, d, c.norm_eps, this.x, lnf[0], lnf[1], this.hFinal, perRow),
    );
    this.logitsChunks = this.plan.logitsChunks;
    this.logitsOps = this.logitsChunks.map((ch, i) => {
      const r0 = ch.v0 - this.plan.vocabBlocks[ch.block].start;
      const label = `lm.logits#${i}`;
      // f32: h·W_U[rows]ᵀ (NT); f16: h·Wᵀ[:, rows] over the transposed block (NN, even offset).
      return op(
        f16
          ? gemmF16Op(
              device,
              label,
              { layout: 'NN', M: N, N: ch.rows, K: d, offB: r0, ldb: vocabLd[ch.block] },
              this.hFinal,
              W_U[ch.block],
              this.logits,
            )
          : new GemmOp(
              device,
              label,
              design,
              { layout: 'NT', M: N, N: ch.rows, K: d, offB: r0 * d },
              this.hFinal,
              W_U[ch.block],
              this.logits,
            ),
      );
    });
  }

  private own(b: GPUBuffer): GPUBuffer {
    this.owned.push(b);
    return b;
  }

  /** The [N, d] buffer a captured hook is copied into (made on first use, then kept). */
  captureBuffer(name: string): GPUBuffer {
    parseHookName(name, this.model.config.n_layers);
    let b = this.captures.get(name);
    if (!b)
      this.captures.set(
        name,
        (b = this.own(createStorageBuffer(this.device, `lm.capture(${name})`, this.N * this.bytesPerRow))),
      );
    return b;
  }

  private centering(name: string): LmOp {
    let op = this.centerOps.get(name);
    if (!op) {
      op = centerOp(
        this.device,
        `lm.center(${name})`,
        this.N,
        this.model.config.d_model,
        this.captureBuffer(name),
      );
      this.centerOps.set(name, op);
      this.ops.push(op);
    }
    return op;
  }

  /** Writes the [S·T] token ids after checking them against the vocabulary. */
  writeIds(ids: Int32Array): void {
    const V = this.model.config.vocab_size;
    if (ids.length !== this.N) throw new Error(`LmGpuForward: ${ids.length} token ids, S·T = ${this.N}`);
    for (let i = 0; i < ids.length; i++)
      if (!(ids[i] >= 0 && ids[i] < V))
        throw new Error(`LmGpuForward: token id ${ids[i]} at ${i} is outside the vocabulary 0..${V - 1}`);
    this.device.queue.writeBuffer(this.ids, 0, Uint32Array.from(ids));
  }

  /** Records one forward pass into `enc` (ids already written, or written by the caller's queue). */
  encodeForward(enc: GPUCommandEncoder, opts: EncodeOptions = {}): void {
    const L = this.model.config.n_layers;
    const bytes = this.N * this.bytesPerRow;
    const parse = (name: string) => parseHookName(name, L);
    const capture = new Map<number, string[]>();
    for (const name of opts.capture ?? []) {
      const hk = parse(name);
      const at = position(hk.layer, hk.point);
      capture.set(at, [...(capture.get(at) ?? []), name]);
      this.captureBuffer(name);
    }
    const checkValues = (what: string, b: GPUBuffer) => {
      if (b.size < bytes)
        throw new Error(`LmGpuForward: ${what} buffer has ${b.size} bytes, S·T·d·4 = ${bytes}`);
      // A buffer cannot be copied onto itself: the forward's own activations are not valid sources.
      if (b === this.x || b === this.attnOut || b === this.mlpOut)
        throw new Error(`LmGpuForward: ${what} buffer is one of the forward's own activations (${b.label})`);
    };
    const patch = opts.patch ? { ...parse(opts.patch.hook), buffer: opts.patch.buffer } : null;
    if (patch) checkValues(`patch ${opts.patch!.hook}`, patch.buffer);
    let from = -1; // first hook position computed (−1: from the embedding)
    if (opts.start) {
      const s = parse(opts.start.hook);
      if (s.point === 'hook_attn_out' || s.point === 'hook_mlp_out')
        throw new Error(
          `LmGpuForward: cannot start at ${opts.start.hook} (the residual stream is needed too); start at a ` +
            `resid hook, or patch ${s.point} in a full forward`,
        );
      checkValues(`start ${opts.start.hook}`, opts.start.buffer);
      from = position(s.layer, s.point);
    }
    const stop = opts.stopAt ? (({ layer, point }) => position(layer, point))(parse(opts.stopAt)) : Infinity;
    for (const at of capture.keys())
      if (at > stop || at < from)
        throw new Error(
          `LmGpuForward: a captured hook lies outside the hooks this forward computes (start/stopAt)`,
        );
    if (patch && (position(patch.layer, patch.point) > stop || position(patch.layer, patch.point) <= from))
      throw new Error(`LmGpuForward: the patched hook ${opts.patch!.hook} lies outside this forward`);

    if (opts.center && this.model.config.family !== 'gpt2')
      throw new Error(
        `LmGpuForward: ${this.model.config.source} uses RMSNorm, which does not ignore the row mean: ` +
          `its hooks are never centred (SPEC §9)`,
      );
    const r = new Recorder(enc);
    const x = this.x;
    /** The hook at (layer, point) holds its value in `buf`: patch, then capture. Returns true to stop. */
    const hookAt = (layer: number, point: HookPoint, buf: GPUBuffer): boolean => {
      const at = position(layer, point);
      if (at < from) return false;
      if (at === from) r.copy(opts.start!.buffer, buf, bytes);
      if (patch && patch.layer === layer && patch.point === point) r.copy(patch.buffer, buf, bytes);
      for (const name of capture.get(at) ?? []) {
        r.copy(buf, this.captures.get(name)!, bytes);
        if (opts.center) r.run([this.centering(name)]);
      }
      return at >= stop;
    };
    const runs = (layer: number, point: HookPoint) => position(layer, point) > from;

    if (from < 0) r.run(this.embed);
    for (let l = 0; l < L; l++) {
      const b = this.blocks[l];
      if (position(l, 'hook_resid_post') < from) continue;
      if (hookAt(l, 'hook_resid_pre', x)) return r.end();
      if (runs(l, 'hook_attn_out')) {
        r.run([b.norm1, ...b.qkv, ...b.rope, b.attention, ...b.outProj]);
        if (hookAt(l, 'hook_attn_out', this.attnOut)) return r.end();
        r.run([b.addAttn]);
      }
      if (hookAt(l, 'hook_resid_mid', x)) return r.end();
      if (runs(l, 'hook_mlp_out')) {
        r.run([b.norm2, ...b.up, b.act, ...b.down]);
        if (hookAt(l, 'hook_mlp_out', this.mlpOut)) return r.end();
        r.run([b.addMlp]);
      }
      if (hookAt(l, 'hook_resid_post', x)) return r.end();
    }
    r.run([this.finalNorm]);
    r.end();
  }

  /** One forward: writes ids (unless null: reuse the last), records and submits one command buffer. */
  forward(ids: Int32Array | null, opts: EncodeOptions = {}): void {
    if (ids) this.writeIds(ids);
    const enc = this.device.createCommandEncoder({ label: 'lm.forward' });
    this.encodeForward(enc, opts);
    this.device.queue.submit([enc.finish()]);
  }

  /** Records logits chunk `i` (logitsChunks[i]) into `logits`, dense [N, rows]. Needs h_final. */
  encodeLogitsChunk(enc: GPUCommandEncoder, i: number): void {
    if (!(i >= 0 && i < this.logitsOps.length)) throw new Error(`LmGpuForward: no logits chunk ${i}`);
    const pass = enc.beginComputePass({ label: `lm.logits#${i}` });
    this.logitsOps[i].record(pass);
    pass.end();
  }

  /** Captured hook values, read back together: one submit copies them all to staging buffers. */
  async readHooks(names: string[]): Promise<Map<string, Float32Array>> {
    const bytes = this.N * this.bytesPerRow;
    const enc = this.device.createCommandEncoder({ label: 'lm.readHooks' });
    const staging = names.map((name) => {
      const src = this.captures.get(name);
      if (!src) throw new Error(`LmGpuForward: ${name} was never captured`);
      const dst = this.device.createBuffer({
        label: `lm.readback(${name})`,
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
      return dst;
    });
    this.device.queue.submit([enc.finish()]);
    await Promise.all(staging.map((b) => b.mapAsync(GPUMapMode.READ)));
    const out = new Map<string, Float32Array>();
    names.forEach((name, i) => {
      out.set(name, new Float32Array(staging[i].getMappedRange().slice(0)));
      staging[i].destroy();
    });
    return out;
  }

  /**
   * All logits [N, vocab], chunk by chunk (for tests and small vocabularies: the whole matrix exists on
   * the CPU side only; the GPU holds one chunk at a time).
   */
  async readAllLogits(): Promise<Float32Array> {
    const V = this.model.config.vocab_size;
    const all = new Float32Array(this.N * V);
    for (let i = 0; i < this.logitsChunks.length; i++) {
      const { v0, rows } = this.logitsChunks[i];
      const enc = this.device.createCommandEncoder({ label: 'lm.logits' });
      this.encodeLogitsChunk(enc, i);
      this.device.queue.submit([enc.finish()]);
      const chunk = new Float32Array(await readBuffer(this.device, this.logits, 0, this.N * rows * 4));
      for (let n = 0; n < this.N; n++) all.set(chunk.subarray(n * rows, (n + 1) * rows), n * V + v0);
    }
    return all;
  }

  /**
   * The logits of a few token rows (e.g. the last position, for sampling), [rows.length, vocab]: every
   * chunk's GEMM and a copy of just those rows, one submit; the GPU holds one chunk at a time.
   */
  async readLogitsRows(rows: number[]): Promise<Float32Array> {
    const V = this.model.config.vocab_size;
    for (const r of rows)
      if (!(Number.isInteger(r) && r >= 0 && r < this.N))
        throw new Error(`LmGpuForward: logits row ${r} is outside 0..${this.N - 1}`);
    const staging = this.device.createBuffer({
      label: 'lm.readback(logits rows)',
      size: Math.max(4, rows.length * V * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder({ label: 'lm.logitsRows' });
    this.logitsChunks.forEach(({ v0, rows: width }, i) => {
      this.encodeLogitsChunk(enc, i);
      rows.forEach((r, k) =>
        enc.copyBufferToBuffer(this.logits, r * width * 4, staging, (k * V + v0) * 4, width * 4),
      );
    });
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0, rows.length * V * 4));
    staging.unmap();
    staging.destroy();
    return out;
  }

  destroy(): void {
    for (const o of this.ops) o.destroy();
    for (const b of this.owned) b.destroy();
    this.captures.clear();
  }
}
