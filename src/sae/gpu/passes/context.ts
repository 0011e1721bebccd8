// What every stage builder of the SAE step (encoder.ts, activation.ts, losses.ts, backward.ts,
// optimizer.ts) shares: the device, the config and its architecture, the typed buffer set, the chunk
// plan, the Block uniforms, and the helpers that turn a kernel plus named buffers into a recorded pass.
// Kernels are bound by the names their WGSL declares (bindNamed checks them), never by position.
import { createUniformBuffer } from '../../../gpu/buffers';
import { grid } from '../../../gpu/dispatch';
import { GemmOp, type GemmDesign, type GemmShape } from '../../../gpu/gemm';
import { bindNamed, createNamedKernel, type NamedKernel } from '../../../gpu/kernel';
import { architectureOf, type ArchitectureSpec } from '../../architectures';
import { tokensPerStep, type TrainConfig } from '../../config';
import type { ChunkPlan, FeatBlock, RowBlock } from '../chunks';
import type { SaeBuffers } from '../saeBuffers';
import { MaskedNtOp, SparseGemmOp, type SparseShape } from '../sparseGemm';
import { withSaeStructs } from '../wgsl';

/** One recorded pass of the step: a dispatch of an SAE kernel, a GEMM or a sparse product. */
export interface Op {
  readonly label: string;
  record(pass: GPUComputePassEncoder): void;
}

/** A pass that owns GPU objects (GEMMs and sparse products keep their own uniform). */
interface OwnedOp extends Op {
  destroy(): void;
}

export type Bindings = Readonly<Record<string, GPUBuffer>>;

export class PassContext {
  readonly N: number;
  readonly d: number;
  readonly m: number;
  readonly arch: ArchitectureSpec;
  /** The architecture trains a threshold log θ (JumpReLU): activate/column/feature_grad use it. */
  readonly threshold: boolean;
  readonly R: readonly RowBlock[];
  readonly F: readonly FeatBlock[];
  /** Block uniform (shaders: struct Block) of each row block and each feature block, written once. */
  readonly rowBlk: GPUBuffer[];
  readonly featBlk: GPUBuffer[];
  /**
   * Workgroup size of the one-workgroup-per-row reductions (recon, feature_grad, bdec_grad, dec_project,
   * dec_renorm, aux_resid). SwiftShader runs a workgroup's invocations as CPU lanes and pays for each at
   * every barrier: 32 made those passes ~6× faster there (d=16, m=64, N=256: 300 → ~50 ms a step).
   */
  readonly rowWg: { WG: number };
  /**
   * The TopK / AuxK radix selects (one workgroup per row, 3 barriers a round) go further: on SwiftShader
   * 4 invocations (one SIMD group) took 41 ms for 1024 rows × 512 features against 84 ms at 32 and
   * 790 ms at 256 (interleaved runs of the kernel alone).
   */
  readonly selectWg: { WG: number };
  /**
   * The products with f skip its zeros (topk_spmm.wgsl, topk_masked_nt.wgsl) when the architecture says
   * f is sparse enough (GpuRecipe.sparseProducts); those with f_aux (k_aux per row, none while nothing is
   * dead) always do. 'dense' products run every one as a dense GEMM (bench/passes.ts compares the two).
   */
  readonly sparseF: boolean;
  readonly sparseAux: boolean;
  private readonly owned: OwnedOp[] = [];
  private readonly uniforms: GPUBuffer[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly cfg: TrainConfig,
    readonly b: SaeBuffers,
    readonly design: GemmDesign,
    chunks: ChunkPlan,
    products: 'auto' | 'dense' = 'auto',
  ) {
    this.N = tokensPerStep(cfg);
    this.d = cfg.d_in;
    this.m = cfg.d_sae;
    this.arch = architectureOf(cfg);
    this.threshold = this.arch.extraParams.includes('log_threshold');
    this.R = chunks.rowBlocks;
    this.F = chunks.featBlocks;
    const { N, m, R, F } = this;
    this.rowBlk = R.map((r, i) =>
      this.blockUniform(`rowBlock${i}`, [r.row0, r.rows, 0, m, +(i === 0), +(i === R.length - 1)]),
    );
    this.featBlk = F.map((f, i) =>
      this.blockUniform(`featBlock${i}`, [0, N, f.feat0, f.feats, +(i === 0), +(i === F.length - 1)]),
    );
    this.rowWg = { WG: design === 'tiled' ? 256 : 32 };
    this.selectWg = { WG: design === 'tiled' ? 256 : 4 };
    this.sparseF = products === 'auto' && this.arch.gpu.sparseProducts(cfg);
    this.sparseAux = products === 'auto';
  }

  private blockUniform(label: string, v: number[]): GPUBuffer {
    const u = createUniformBuffer(this.device, `sae.${label}`, 32);
    this.device.queue.writeBuffer(u, 0, new Uint32Array([...v, 0, 0]));
    this.uniforms.push(u);
    return u;
  }

  /** An SAE kernel (shared structs in front), its pipeline built once per call. */
  kernel(label: string, code: string, constants?: Record<string, number>): NamedKernel {
    return createNamedKernel(this.device, { label: `sae.${label}`, code: withSaeStructs(code), constants });
  }

  /** A dispatch of `kernel` over `workgroups` (folded into 2-D), with the Params uniform bound as `p`. */
  dispatch(label: string, kernel: NamedKernel, bindings: Bindings, workgroups: number): Op {
    const bind = bindNamed(this.device, kernel, `sae.${label}.bind`, { p: this.b.uniform, ...bindings });
    const [x, y] = grid(workgroups);
    return {
      label: `sae.${label}`,
      record(pass) {
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(x, y);
      },
    };
  }

  private own<T extends OwnedOp>(o: T): T {
    this.owned.push(o);
    return o;
  }

  gemm(label: string, shape: GemmShape, A: GPUBuffer, B: GPUBuffer, C: GPUBuffer, bias?: GPUBuffer): Op {
    return this.own(new GemmOp(this.device, `sae.${label}`, this.design, shape, A, B, C, bias));
  }

  sparse(label: string, shape: SparseShape, A: GPUBuffer, B: GPUBuffer, C: GPUBuffer, bias?: GPUBuffer): Op {
    return this.own(new SparseGemmOp(this.device, `sae.${label}`, this.rowWg.WG, shape, A, B, C, bias));
  }

  /**
   * [rows, d] (+)= A_rows[:, feats]·W_dec_block (+ b_dec): the decoder (A = f) and AuxK's ê (A = f_aux);
   * `sparseA` skips the zeros of A (topk_spmm.wgsl).
   */
  decode(
    label: string,
    sparseA: boolean,
    r: RowBlock,
    f: FeatBlock,
    fi: number,
    A: GPUBuffer,
    C: GPUBuffer,
    bias?: GPUBuffer,
  ): Op {
    const { d, m } = this;
    const W = this.b.param.W_dec.value[fi];
    return sparseA
      ? this.sparse(
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
          W,
          C,
          bias,
        )
      : this.gemm(
          label,
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
          W,
          C,
          bias,
        );
  }

  /**
   * [feats, d] (+)= A_rows[:, feats]ᵀ·B_rows, as a sparse product: ∂W_dec (A = f, B = g_x̂) and AuxK's
   * (A = f_aux, B = g_ê); with C's strides swapped, ∂W_enc's transposed product.
   */
  featRowsShape(r: RowBlock, f: FeatBlock, accumulate: boolean): SparseShape {
    const { d, m } = this;
    return {
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
    };
  }

  /** [feats, d] (+)= A_rows[:, feats]ᵀ·B_rows (TN GEMM, or the sparse product with `sparseA`). */
  featRows(
    label: string,
    sparseA: boolean,
    r: RowBlock,
    f: FeatBlock,
    accumulate: boolean,
    A: GPUBuffer,
    B: GPUBuffer,
    C: GPUBuffer,
  ): Op {
    return sparseA
      ? this.sparse(label, this.featRowsShape(r, f, accumulate), A, B, C)
      : this.gemm(
          label,
          {
            layout: 'TN',
            M: f.feats,
            N: this.d,
            K: r.rows,
            offA: f.feat0,
            lda: this.m,
            offB: r.row0 * this.d,
            accumulate,
          },
          A,
          B,
          C,
        );
  }

  /**
   * ∂L/∂f-shaped product src_rows·W_decᵀ into the [rows, m] blocks `out` (NT GEMM per row and feature
   * block). With a `mask` (TopK's f or AuxK's f_aux) only the elements where it is non-zero are computed,
   * the rest are 0: the only ones the next pass reads (feature_grad keeps ∂L/∂f where f is active, aux_add
   * where f_aux ≠ 0).
   */
  productWdecT(label: string, src: GPUBuffer, out: readonly GPUBuffer[], mask?: readonly GPUBuffer[]): Op[] {
    const { d, m } = this;
    return this.R.flatMap((r, ri) =>
      this.F.map((f, fi) => {
        const W = this.b.param.W_dec.value[fi];
        const name = `${label}.r${ri}.f${fi}`;
        return mask
          ? this.own(
              new MaskedNtOp(
                this.device,
                `sae.${name}`,
                this.rowWg.WG,
                { rows: r.rows, cols: f.feats, K: d, offA: r.row0 * d, offM: f.feat0, offC: f.feat0, ldc: m },
                src,
                W,
                mask[ri],
                out[ri],
              ),
            )
          : this.gemm(
              name,
              { layout: 'NT', M: r.rows, N: f.feats, K: d, offA: r.row0 * d, offC: f.feat0, ldc: m },
              src,
              W,
              out[ri],
            );
      }),
    );
  }

  destroy(): void {
    for (const o of this.owned) o.destroy();
    for (const u of this.uniforms) u.destroy();
  }
}
