// The SAE step as GPU passes: pipelines and bind groups built once per trainer, then recorded into one
// compute pass per step (5 GEMMs + light passes). Order and buffer roles follow SPEC §3–5:
//   forward:  xc = x − b_dec; pre = xc·W_enc + b_enc; f = act(pre); x̂ = f·W_dec + b_dec
//   losses:   per-row recon loss and g_x̂; L_recon → L_max → α (GPU, constant in backward)
//   backward: g = g_x̂·W_decᵀ; g_pre (+ sparsity, temporal, JumpReLU θ terms); ∂W_dec = fᵀ·g_x̂;
//             ∂W_enc = xcᵀ·g_pre; ∂b_enc, ∂log θ, dead tracking; ∂b_dec; decoder-row projection
//   update:   Adam per parameter (+ ‖g‖² partials, non-finite check); W_dec row renorm; metrics
// Big matrices may be split (chunks.ts): [N, m] buffers into row blocks, W_enc/W_dec into feature blocks;
// the GEMMs address blocks by offsets and leading dimensions, per-feature kernels accumulate over blocks.
import activateCode from '../../../shaders/activate.wgsl?raw';
import adamCode from '../../../shaders/adam.wgsl?raw';
import alphaCode from '../../../shaders/alpha.wgsl?raw';
import auxAddCode from '../../../shaders/aux_add.wgsl?raw';
import auxResidCode from '../../../shaders/aux_resid.wgsl?raw';
import auxkSelectCode from '../../../shaders/auxk_select.wgsl?raw';
import bdecCode from '../../../shaders/bdec_grad.wgsl?raw';
import centerCode from '../../../shaders/center.wgsl?raw';
import columnCode from '../../../shaders/column.wgsl?raw';
import projectCode from '../../../shaders/dec_project.wgsl?raw';
import renormCode from '../../../shaders/dec_renorm.wgsl?raw';
import featureGradCode from '../../../shaders/feature_grad.wgsl?raw';
import finalizeCode from '../../../shaders/finalize.wgsl?raw';
import saeCommonCode from '../../../shaders/sae_common.wgsl?raw';
import reconCode from '../../../shaders/recon.wgsl?raw';
import topkCode from '../../../shaders/topk.wgsl?raw';
import { grid } from '../../gpu/dispatch';
import { GemmOp, type GemmDesign } from '../../gpu/gemm';
import { bindBuffers, createKernel } from '../../gpu/kernel';
import { tokensPerStep, type TrainConfig } from '../config';
import { createUniformBuffer } from '../../gpu/buffers';
import { blockName, type ChunkPlan, type FeatBlock, type RowBlock } from './chunks';
import { architectureOf } from '../architectures';
import { auxkOn, PARAM_NAMES, topkSparse } from './layout';
import { MaskedNtOp, SparseGemmOp, type SparseShape } from './sparseGemm';
import { adamDispatches } from './bufferSpecs';
import type { SaeBuffers } from './saeBuffers';

interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  wg: [number, number];
}

/**
 * WGSL has no includes: the Params/Block structs every SAE kernel uses live once in
 * shaders/sae_common.wgsl and are put in front of each kernel's own code here.
 */
export function withSaeStructs(code: string): string {
  return `${saeCommonCode}\n${code}`;
}

/** A pass with its own pipeline and bind group (GEMMs and TopK's sparse products). */
interface Recorded {
  readonly label: string;
  record(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

type Op = Dispatch | Recorded;

export class SaePasses {
  private readonly forwardOps: Op[] = [];
  private readonly backwardOps: Op[] = [];
  private readonly recorded: Recorded[] = [];
  private readonly uniforms: GPUBuffer[] = [];

  constructor(
    device: GPUDevice,
    cfg: TrainConfig,
    b: SaeBuffers,
    design: GemmDesign,
    chunks: ChunkPlan,
    /** TopK: 'dense' runs every product as a dense GEMM (bench/passes.ts compares the two). */
    topkProducts: 'auto' | 'dense' = 'auto',
  ) {
    const N = tokensPerStep(cfg);
    const d = cfg.d_in;
    const m = cfg.d_sae;
    const arch = architectureOf(cfg);
    const threshold = arch.extraParams.includes('log_threshold');
    const P = b.params;
    const R = chunks.rowBlocks;
    const F = chunks.featBlocks;
    const k = (label: string, code: string, constants?: Record<string, number>) =>
      createKernel(device, { label: `sae.${label}`, code: withSaeStructs(code), constants });
    const op = (label: string, pipeline: GPUComputePipeline, bufs: GPUBuffer[], wg: number): Dispatch => ({
      label: `sae.${label}`,
      pipeline,
      bind: bindBuffers(device, pipeline, `sae.${label}.bind`, bufs),
      wg: grid(wg),
    });
    // Passes with their own pipeline (GEMMs, TopK's sparse products), destroyed with the trainer.
    const owned = <T extends Recorded>(o: T): T => {
      this.recorded.push(o);
      return o;
    };
    const gemm = (...a: ConstructorParameters<typeof GemmOp>) => owned(new GemmOp(...a));
    // The Block uniform of each row block and feature block (shaders: struct Block), written once.
    const blockUniform = (label: string, v: number[]) => {
      const u = createUniformBuffer(device, `sae.${label}`, 32);
      device.queue.writeBuffer(u, 0, new Uint32Array([...v, 0, 0]));
      this.uniforms.push(u);
      return u;
    };
    const rowBlk = R.map((r, i) =>
      blockUniform(`rowBlock${i}`, [r.row0, r.rows, 0, m, +(i === 0), +(i === R.length - 1)]),
    );
    const featBlk = F.map((f, i) =>
      blockUniform(`featBlock${i}`, [0, N, f.feat0, f.feats, +(i === 0), +(i === F.length - 1)]),
    );
    const rb = (base: string, i: number) => b[blockName(base, i)];
    // activate.wgsl / column.wgsl: the learned threshold θ (JumpReLU) and its gradient.
    const jump = { JUMPRELU: threshold ? 1 : 0 };
    // Workgroup size of the one-workgroup-per-row reductions (recon, feature_grad, bdec_grad, dec_project,
    // dec_renorm, aux_resid). SwiftShader runs a workgroup's invocations as CPU lanes and pays for each
    // at every barrier: 32 made those passes ~6× faster there (d=16, m=64, N=256: 300 → ~50 ms a step).
    const rowWg = { WG: design === 'tiled' ? 256 : 32 };
    // The TopK / AuxK radix selects (one workgroup per row, 3 barriers a round) go further: on SwiftShader
    // 4 invocations (one SIMD group) took 41 ms for 1024 rows × 512 features against 84 ms at 32 and
    // 790 ms at 256 (interleaved runs of the kernel alone).
    const selectWg = { WG: design === 'tiled' ? 256 : 4 };

    // TopK's products with f, f_aux and g_pre skip their zeros (shaders/topk_spmm.wgsl, topk_masked_nt.wgsl):
    // f has k non-zeros per row, so it pays when k is a small part of d_sae (topkSparse); f_aux (k_aux per
    // row, none while nothing is dead) always goes that way. Shapes of the sparse products per (row block r,
    // feature block f):
    const sparseF = topkProducts === 'auto' && topkSparse(cfg);
    const sparseAux = topkProducts === 'auto';
    const sparse = (
      label: string,
      shape: SparseShape,
      A: GPUBuffer,
      B: GPUBuffer,
      C: GPUBuffer,
      bias?: GPUBuffer,
    ) => owned(new SparseGemmOp(device, `sae.${label}`, rowWg.WG, shape, A, B, C, bias));
    // [rows, d] (+)= A_rows[:, feats]·W_dec_block (+ b_dec): the decoder (A = f) and AuxK's ê (A = f_aux).
    const decode = (
      label: string,
      sparseA: boolean,
      r: RowBlock,
      f: FeatBlock,
      fi: number,
      A: GPUBuffer,
      C: GPUBuffer,
      bias?: GPUBuffer,
    ) =>
      sparseA
        ? sparse(
            label,
            {
              rows: r.rows,
              cols: d,
              K: f.feats,
              offA: f.feat0,
              sAr: m,
              sAk: 1,
              sBk: d,
              offC: r.row0 * d,
              sCr: d,
              accumulate: fi > 0,
            },
            A,
            rb('W_dec', fi),
            C,
            bias,
          )
        : gemm(
            device,
            `sae.${label}`,
            design,
            {
              layout: 'NN',
              M: r.rows,
              N: d,
              K: f.feats,
              offA: f.feat0,
              lda: m,
              offC: r.row0 * d,
              accumulate: fi > 0,
            },
            A,
            rb('W_dec', fi),
            C,
            bias,
          );
    // [feats, d] (+)= A_rows[:, feats]ᵀ·B_rows: ∂W_dec (A = f, B = g_x̂) and AuxK's (A = f_aux, B = g_ê); with
    // C's strides swapped, ∂W_enc's transposed sparse product.
    const featRowsShape = (r: RowBlock, f: FeatBlock, accumulate: boolean): SparseShape => ({
      rows: f.feats,
      cols: d,
      K: r.rows,
      offA: f.feat0,
      sAr: 1,
      sAk: m,
      offB: r.row0 * d,
      sBk: d,
      sCr: d,
      accumulate,
    });
    const featRows = (
      label: string,
      sparseA: boolean,
      r: RowBlock,
      f: FeatBlock,
      accumulate: boolean,
      A: GPUBuffer,
      Bm: GPUBuffer,
      C: GPUBuffer,
    ) =>
      sparseA
        ? sparse(label, featRowsShape(r, f, accumulate), A, Bm, C)
        : gemm(
            device,
            `sae.${label}`,
            design,
            {
              layout: 'TN',
              M: f.feats,
              N: d,
              K: r.rows,
              offA: f.feat0,
              lda: m,
              offB: r.row0 * d,
              accumulate,
            },
            A,
            Bm,
            C,
          );

    // ---- forward ----
    this.forwardOps.push(
      op('center', k('center', centerCode), [P, b.x, b.b_dec, b.xc], Math.ceil((N * d) / 256)),
    );
    const topkK = arch.gpu.activation === 'topk' ? k('topk', topkCode, selectWg) : null;
    const actK = arch.gpu.activation === 'elementwise' ? k('activate', activateCode, jump) : null;
    R.forEach((r, ri) => {
      F.forEach((f, fi) =>
        this.forwardOps.push(
          gemm(
            device,
            `sae.encoder.r${ri}.f${fi}`,
            design,
            {
              layout: 'NN',
              M: r.rows,
              N: f.feats,
              K: d,
              offA: r.row0 * d,
              offC: f.feat0,
              ldc: m,
              offBias: f.feat0,
            },
            b.xc,
            rb('W_enc', fi),
            rb('pre', ri),
            b.b_enc,
          ),
        ),
      );
      this.forwardOps.push(
        topkK
          ? op(`topk.r${ri}`, topkK, [P, rb('pre', ri), b.rowflags, rb('f', ri), rowBlk[ri]], r.rows)
          : op(
              `activate.r${ri}`,
              actK!,
              [P, rb('pre', ri), b.log_threshold, b.rowflags, rb('f', ri), rowBlk[ri]],
              Math.ceil((r.rows * m) / 256),
            ),
      );
      // x̂ = f·W_dec + b_dec: TopK skips the zeros of f (k per row) when they are most of it.
      F.forEach((f, fi) =>
        this.forwardOps.push(
          decode(
            `decoder.r${ri}.f${fi}`,
            sparseF,
            r,
            f,
            fi,
            rb('f', ri),
            b.xhat,
            fi === 0 ? b.b_dec : undefined,
          ),
        ),
      );
    });

    // ---- losses ----
    const aux = auxkOn(cfg);
    const B = this.backwardOps;
    B.push(
      op('recon', k('recon', reconCode, rowWg), [P, b.x, b.xhat, b.rowflags, b.g_xhat, b.row_stats], N),
      op('alpha', k('alpha', alphaCode), [P, b.row_stats, b.state], 1),
    );
    // ∂L/∂f-shaped product g_rows·W_decᵀ into the [rows, m] block `out` (NT GEMM per feature block). With a
    // `mask` (TopK's f or AuxK's f_aux) only the elements where it is non-zero are computed, the rest are 0:
    // the only ones the next pass reads (feature_grad keeps ∂L/∂f where f is active, aux_add where f_aux ≠ 0).
    const productWdecT = (
      label: string,
      src: GPUBuffer,
      out: (ri: number) => GPUBuffer,
      mask?: (ri: number) => GPUBuffer,
    ) =>
      R.forEach((r, ri) =>
        F.forEach((f, fi) =>
          B.push(
            mask
              ? owned(
                  new MaskedNtOp(
                    device,
                    `sae.${label}.r${ri}.f${fi}`,
                    rowWg.WG,
                    {
                      rows: r.rows,
                      cols: f.feats,
                      K: d,
                      offA: r.row0 * d,
                      offM: f.feat0,
                      offC: f.feat0,
                      ldc: m,
                    },
                    src,
                    rb('W_dec', fi),
                    mask(ri),
                    out(ri),
                  ),
                )
              : gemm(
                  device,
                  `sae.${label}.r${ri}.f${fi}`,
                  design,
                  { layout: 'NT', M: r.rows, N: f.feats, K: d, offA: r.row0 * d, offC: f.feat0, ldc: m },
                  src,
                  rb('W_dec', fi),
                  out(ri),
                ),
          ),
        ),
      );
    // TopK AuxK: choose dead features, ê = f_aux·W_dec, residual loss and g_ê (Gao et al. 2024).
    if (aux) {
      const sel = k('auxk_select', auxkSelectCode, selectWg);
      R.forEach((r, ri) => {
        B.push(
          op(
            `auxk_select.r${ri}`,
            sel,
            [P, rb('pre', ri), b.tokens_since_fired, b.rowflags, rb('f_aux', ri), b.state, rowBlk[ri]],
            r.rows,
          ),
        );
        F.forEach((f, fi) =>
          B.push(decode(`aux_ehat.r${ri}.f${fi}`, sparseAux, r, f, fi, rb('f_aux', ri), b.ehat)),
        );
      });
      B.push(
        op(
          'aux_resid',
          k('aux_resid', auxResidCode, rowWg),
          [P, b.x, b.xhat, b.ehat, b.rowflags, b.state, b.aux_rows],
          N,
        ),
      );
    }

    // ---- backward ----
    productWdecT('grad_f', b.g_xhat, (ri) => rb('g', ri), sparseF ? (ri) => rb('f', ri) : undefined);
    const fg = k('feature_grad', featureGradCode, {
      SPARSITY: arch.sparsity === 'L1' ? 1 : arch.sparsity === 'L0' ? 2 : 0,
      THRESHOLD: threshold ? 1 : 0,
      ...rowWg,
    });
    R.forEach((r, ri) =>
      B.push(
        op(
          `feature_grad.r${ri}`,
          fg,
          [
            P,
            rb('f', ri),
            rb('g', ri),
            rb('pre', ri),
            b.log_threshold,
            b.rowflags,
            b.state,
            b.row_stats,
            rowBlk[ri],
          ],
          r.rows,
        ),
      ),
    );
    if (aux) {
      // g_ê·W_decᵀ into `pre` (free for TopK once both selections are done), then masked into g_pre.
      productWdecT(
        'aux_grad_f',
        b.ehat,
        (ri) => rb('pre', ri),
        sparseAux ? (ri) => rb('f_aux', ri) : undefined,
      );
      const add = k('aux_add', auxAddCode);
      R.forEach((r, ri) =>
        B.push(
          op(
            `aux_add.r${ri}`,
            add,
            [P, rb('f_aux', ri), rb('pre', ri), rb('g', ri), rowBlk[ri]],
            Math.ceil((r.rows * m) / 256),
          ),
        ),
      );
    }
    F.forEach((f, fi) =>
      R.forEach((r, ri) => {
        // ∂W_dec (rows of this feature block) = Σ_row-blocks f_blockᵀ·g_x̂ (+ AuxK's f_auxᵀ·g_ê).
        B.push(
          featRows(
            `grad_W_dec.f${fi}.r${ri}`,
            sparseF,
            r,
            f,
            ri > 0,
            rb('f', ri),
            b.g_xhat,
            rb('grad_W_dec', fi),
          ),
        );
        if (aux)
          B.push(
            featRows(
              `aux_grad_W_dec.f${fi}.r${ri}`,
              sparseAux,
              r,
              f,
              true,
              rb('f_aux', ri),
              b.ehat,
              rb('grad_W_dec', fi),
            ),
          );
        // ∂W_enc (columns of this feature block) = Σ_row-blocks xcᵀ·g_pre.
        // With TopK g_pre is non-zero only at active (and AuxK-chosen) features: the transposed sparse
        // product g_preᵀ·xc, written into W_enc's [d, feats] layout through C's strides.
        B.push(
          sparseF
            ? sparse(
                `grad_W_enc.f${fi}.r${ri}`,
                { ...featRowsShape(r, f, ri > 0), sCr: 1, sCc: f.feats },
                rb('g', ri),
                b.xc,
                rb('grad_W_enc', fi),
              )
            : gemm(
                device,
                `sae.grad_W_enc.f${fi}.r${ri}`,
                design,
                {
                  layout: 'TN',
                  M: d,
                  N: f.feats,
                  K: r.rows,
                  offA: r.row0 * d,
                  offB: f.feat0,
                  ldb: m,
                  accumulate: ri > 0,
                },
                b.xc,
                rb('g', ri),
                rb('grad_W_enc', fi),
              ),
        );
      }),
    );
    const col = k('column', columnCode, jump);
    R.forEach((_, ri) =>
      B.push(
        op(
          `column.r${ri}`,
          col,
          [
            P,
            rb('f', ri),
            rb('g', ri),
            rb('pre', ri),
            b.grad_b_enc,
            b.grad_log_threshold,
            b.tokens_since_fired,
            b.counters,
            rowBlk[ri],
          ],
          Math.ceil(m / 256),
        ),
      ),
    );
    const bdec = k('bdec_grad', bdecCode, rowWg);
    const proj = k('dec_project', projectCode, rowWg);
    F.forEach((_, fi) =>
      B.push(
        op(
          `bdec_grad.f${fi}`,
          bdec,
          [P, b.g_xhat, rb('W_enc', fi), b.grad_b_enc, b.grad_b_dec, featBlk[fi]],
          d,
        ),
      ),
    );
    F.forEach((f, fi) =>
      B.push(
        op(`dec_project.f${fi}`, proj, [P, rb('W_dec', fi), rb('grad_W_dec', fi), featBlk[fi]], f.feats),
      ),
    );

    // ---- update ----
    for (const a of adamDispatches(cfg, chunks)) {
      const pipeline = k(`adam.${a.name}`, adamCode, {
        COUNT: a.count,
        BASE: a.base,
        BIT: PARAM_NAMES.indexOf(a.param),
      });
      B.push(
        op(
          `adam.${a.name}`,
          pipeline,
          [
            P,
            b[a.name],
            b[`grad_${a.name}`],
            b[`adam_m_${a.name}`],
            b[`adam_v_${a.name}`],
            b.partials,
            b.counters,
          ],
          a.workgroups,
        ),
      );
    }
    const renorm = k('dec_renorm', renormCode, rowWg);
    F.forEach((f, fi) => B.push(op(`dec_renorm.f${fi}`, renorm, [P, rb('W_dec', fi), featBlk[fi]], f.feats)));
    B.push(
      op(
        'finalize',
        k('finalize', finalizeCode),
        [P, b.row_stats, b.partials, b.state, b.counters, b.metrics, b.aux_rows],
        1,
      ),
    );
  }

  private static record(pass: GPUComputePassEncoder, o: Op) {
    if ('record' in o) o.record(pass);
    else {
      pass.setPipeline(o.pipeline);
      pass.setBindGroup(0, o.bind);
      pass.dispatchWorkgroups(o.wg[0], o.wg[1]);
    }
  }

  private static run(pass: GPUComputePassEncoder, ops: Op[]) {
    for (const o of ops) SaePasses.record(pass, o);
  }

  /** Every pass of a training step in order, each recordable alone (the per-pass bench, bench/passes.ts). */
  stepOps(): { label: string; record: (pass: GPUComputePassEncoder) => void }[] {
    return [...this.forwardOps, ...this.backwardOps].map((o) => ({
      label: o.label,
      record: (pass) => SaePasses.record(pass, o),
    }));
  }

  recordForward(pass: GPUComputePassEncoder): void {
    SaePasses.run(pass, this.forwardOps);
  }

  recordTrainStep(pass: GPUComputePassEncoder): void {
    SaePasses.run(pass, this.forwardOps);
    SaePasses.run(pass, this.backwardOps);
  }

  destroy(): void {
    for (const g of this.recorded) g.destroy();
    for (const u of this.uniforms) u.destroy();
  }
}
