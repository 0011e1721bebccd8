// Host side of shaders/topk_spmm.wgsl: C = A·B (+C) (+bias) with the zero terms of A skipped, for the
// products of TopK training whose left operand is mostly zeros (f, f_aux, g_pre). Built once with fixed
// operands like GemmOp (src/gpu/gemm.ts), recorded per step.
import spmmCode from '../../../shaders/topk_spmm.wgsl?raw';
import { createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import { grid } from '../../gpu/dispatch';
import { bindBuffers, createKernel } from '../../gpu/kernel';

/** Columns each invocation keeps in registers (shaders/topk_spmm.wgsl CPI). */
export const SPMM_CPI = 8;

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

/** Column chunks per row of C for a workgroup size. */
export function spmmChunks(cols: number, wg: number): number {
  return Math.max(1, Math.ceil(cols / (wg * SPMM_CPI)));
}

/** The 16 u32 of the Sparse uniform (shaders/topk_spmm.wgsl). */
export function sparseUniform(s: SparseShape, hasBias: boolean, wg: number): Uint32Array<ArrayBuffer> {
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
    spmmChunks(s.cols, wg),
    0,
    0,
  ]);
}

const pipelines = new WeakMap<GPUDevice, Map<number, GPUComputePipeline>>();

function spmmPipeline(device: GPUDevice, wg: number): GPUComputePipeline {
  let byWg = pipelines.get(device);
  if (!byWg) pipelines.set(device, (byWg = new Map()));
  let p = byWg.get(wg);
  if (!p)
    byWg.set(
      wg,
      (p = createKernel(device, { label: `sae.spmm.wg${wg}`, code: spmmCode, constants: { WG: wg } })),
    );
  return p;
}

/** One sparse product with fixed operands: uniform and bind group made once. */
export class SparseGemmOp {
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;
  private readonly uniform: GPUBuffer;
  private readonly placeholder?: GPUBuffer;
  private readonly workgroups: [number, number];

  constructor(
    device: GPUDevice,
    readonly label: string,
    /** Workgroup size: 32 on SwiftShader, 256 on real GPUs (as the row reductions). */
    wg: number,
    readonly shape: SparseShape,
    A: GPUBuffer,
    B: GPUBuffer,
    C: GPUBuffer,
    bias?: GPUBuffer,
  ) {
    this.pipeline = spmmPipeline(device, wg);
    this.uniform = createUniformBuffer(device, `${label}.dims`, 64);
    device.queue.writeBuffer(this.uniform, 0, sparseUniform(shape, !!bias, wg));
    if (!bias) this.placeholder = createStorageBuffer(device, `${label}.noBias`, 16);
    this.bindGroup = bindBuffers(device, this.pipeline, `${label}.bind`, [
      this.uniform,
      A,
      B,
      C,
      bias ?? this.placeholder!,
    ]);
    this.workgroups = grid(shape.rows * spmmChunks(shape.cols, wg));
  }

  record(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(this.workgroups[0], this.workgroups[1]);
  }

  destroy(): void {
    this.uniform.destroy();
    this.placeholder?.destroy();
  }
}
