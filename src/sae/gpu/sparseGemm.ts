// Host side of TopK's sparse products, built once with fixed operands like GemmOp (src/gpu/gemm.ts) and
// recorded per step:
//   SparseGemmOp  shaders/topk_spmm.wgsl: C = A·B (+C) (+bias) with the zero terms of A skipped, for the
//                 products whose left operand is mostly zeros (f, f_aux, g_pre);
//   MaskedNtOp    shaders/topk_masked_nt.wgsl: C = A·Bᵀ only where a mask (f, f_aux) is non-zero (its
//                 _vec4 variant when the rows allow vec4 reads).
import maskedNtCode from '../../../shaders/topk_masked_nt.wgsl?raw';
import maskedNtVec4Code from '../../../shaders/topk_masked_nt_vec4.wgsl?raw';
import spmmCode from '../../../shaders/topk_spmm.wgsl?raw';
import { createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import { grid } from '../../gpu/dispatch';
import { bindNamed, createNamedKernel, type NamedKernel } from '../../gpu/kernel';

/** Columns each invocation keeps in registers (shaders/topk_spmm.wgsl CPI). */
export const SPMM_CPI = 16;
/** Columns each invocation of shaders/topk_masked_nt.wgsl walks (CPT). */
export const MASKED_CPT = 16;

export interface SparseShape {
  /** Rows and columns of C, and the reduction length. */
  rows: number;
  cols: number;
  K: number;
  /** A(r, t) = A[offA + r·sAr + t·sAk]. */
  offA?: number;
  sAr: number;
  sAk: number;
  /** B(t, c) = B[offB + t·sBk + c]. */
  offB?: number;
  sBk: number;
  /** C(r, c) = C[offC + r·sCr + c·sCc]. */
  offC?: number;
  sCr: number;
  sCc?: number;
  /** Add into the existing C instead of overwriting it. */
  accumulate?: boolean;
  /** Element offset into the bias buffer (column c adds bias[offBias + c]). */
  offBias?: number;
}

/** Column chunks per row of C (one invocation each per row). */
export function spmmChunks(cols: number): number {
  return Math.max(1, Math.ceil(cols / SPMM_CPI));
}

/** The 16 u32 of the Sparse uniform (shaders/topk_spmm.wgsl). */
export function sparseUniform(s: SparseShape, hasBias: boolean): Uint32Array<ArrayBuffer> {
  const flags = (s.accumulate ? 1 : 0) | (hasBias ? 2 : 0);
  return new Uint32Array([
    s.rows,
    s.cols,
    s.K,
    flags,
    s.offA ?? 0,
    s.sAr,
    s.sAk,
    s.offB ?? 0,
    s.sBk,
    s.offC ?? 0,
    s.sCr,
    s.sCc ?? 1,
    s.offBias ?? 0,
    spmmChunks(s.cols),
    0,
    0,
  ]);
}

const pipelines = new WeakMap<GPUDevice, Map<string, NamedKernel>>();

export type SparseKernel = 'spmm' | 'masked_nt' | 'masked_nt_vec4';
const CODE: Record<SparseKernel, string> = {
  spmm: spmmCode,
  masked_nt: maskedNtCode,
  masked_nt_vec4: maskedNtVec4Code,
};

/** A sparse-product kernel with the binding names its WGSL declares, built once per device and size. */
export function sparseKernel(device: GPUDevice, kernel: SparseKernel, wg: number): NamedKernel {
  let byKey = pipelines.get(device);
  if (!byKey) pipelines.set(device, (byKey = new Map()));
  const key = `${kernel}.wg${wg}`;
  let p = byKey.get(key);
  if (!p) {
    byKey.set(
      key,
      (p = createNamedKernel(device, { label: `sae.${key}`, code: CODE[kernel], constants: { WG: wg } })),
    );
  }
  return p;
}

/**
 * What each kernel binds besides its uniform `s`, by the names its WGSL declares (topk_spmm: A, B, C,
 * bias; topk_masked_nt(_vec4): A, B, M, C); bindNamed checks them against the declarations.
 */
export function spmmBindings(
  A: GPUBuffer,
  B: GPUBuffer,
  C: GPUBuffer,
  bias: GPUBuffer,
): Record<string, GPUBuffer> {
  return { A, B, C, bias };
}
export function maskedBindings(
  A: GPUBuffer,
  B: GPUBuffer,
  M: GPUBuffer,
  C: GPUBuffer,
): Record<string, GPUBuffer> {
  return { A, B, M, C };
}

/** A kernel with its uniform (bound as `s`) and bind group made once. */
class BoundOp {
  private readonly bindGroup: GPUBindGroup;
  private readonly uniform: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;

  constructor(
    device: GPUDevice,
    readonly label: string,
    kernel: NamedKernel,
    words: Uint32Array<ArrayBuffer>,
    buffers: Record<string, GPUBuffer>,
    private readonly workgroups: [number, number],
    private readonly owned: GPUBuffer[] = [],
  ) {
    this.pipeline = kernel.pipeline;
    this.uniform = createUniformBuffer(device, `${label}.dims`, words.byteLength);
    device.queue.writeBuffer(this.uniform, 0, words);
    this.bindGroup = bindNamed(device, kernel, `${label}.bind`, { s: this.uniform, ...buffers });
  }

  record(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(this.workgroups[0], this.workgroups[1]);
  }

  destroy(): void {
    this.uniform.destroy();
    for (const b of this.owned) b.destroy();
  }
}

/** One sparse product C = A·B (+C) (+bias) with fixed operands. */
export class SparseGemmOp extends BoundOp {
  constructor(
    device: GPUDevice,
    label: string,
    /** Workgroup size: 32 on SwiftShader, 256 on real GPUs (as the row reductions). */
    wg: number,
    shape: SparseShape,
    A: GPUBuffer,
    B: GPUBuffer,
    C: GPUBuffer,
    /** Column bias [cols]; without one a small placeholder is bound (WebGPU needs every binding). */
    bias?: GPUBuffer,
  ) {
    const placeholder = bias ? undefined : createStorageBuffer(device, `${label}.noBias`, 16);
    super(
      device,
      label,
      sparseKernel(device, 'spmm', wg),
      sparseUniform(shape, !!bias),
      spmmBindings(A, B, C, bias ?? placeholder!),
      grid(Math.ceil(shape.rows / wg) * spmmChunks(shape.cols)),
      placeholder ? [placeholder] : [],
    );
  }
}

export interface MaskedShape {
  /** Rows and columns of C (and of the mask), and the reduction length. */
  rows: number;
  cols: number;
  K: number;
  /** A(r, t) = A[offA + r·K + t]; B(c, t) = B[offB + c·K + t]. */
  offA?: number;
  offB?: number;
  /** mask(r, c) = M[offM + r·ldc + c]; C(r, c) = C[offC + r·ldc + c]. */
  offM?: number;
  offC?: number;
  ldc: number;
}

/** The 8 u32 of the Masked uniform (shaders/topk_masked_nt.wgsl). */
export function maskedUniform(s: MaskedShape): Uint32Array<ArrayBuffer> {
  return new Uint32Array([s.rows, s.cols, s.K, s.offA ?? 0, s.offB ?? 0, s.offM ?? 0, s.offC ?? 0, s.ldc]);
}

/**
 * topk_masked_nt_vec4.wgsl applies: rows of A and B start at multiples of 4 floats. Its 4-term dot products
 * took the masked ∂L/∂f pass from 1.2× to 0.75× the dense NT GEMM's time on SwiftShader (d 64, d_sae 512,
 * k 32, 1024 rows; bench/passes.ts, each against the dense step in the same run).
 */
export function maskedVec4(s: MaskedShape): boolean {
  return s.K % 4 === 0 && (s.offA ?? 0) % 4 === 0 && (s.offB ?? 0) % 4 === 0;
}

/** One masked product C = (A·Bᵀ) ⊙ [M ≠ 0] with fixed operands. */
export class MaskedNtOp extends BoundOp {
  /** The kernel this shape runs on. */
  readonly kernel: 'masked_nt' | 'masked_nt_vec4';

  constructor(
    device: GPUDevice,
    label: string,
    wg: number,
    shape: MaskedShape,
    A: GPUBuffer,
    B: GPUBuffer,
    M: GPUBuffer,
    C: GPUBuffer,
  ) {
    const kernel = maskedVec4(shape) ? 'masked_nt_vec4' : 'masked_nt';
    super(
      device,
      label,
      sparseKernel(device, kernel, wg),
      maskedUniform(shape),
      maskedBindings(A, B, M, C),
      grid(shape.rows * Math.ceil(shape.cols / (wg * MASKED_CPT))),
    );
    this.kernel = kernel;
  }
}
