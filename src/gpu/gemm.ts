// Strided GEMM C = A·B (+C) (+bias) for the NN, TN and NT layouts, with two designs chosen at runtime:
// 'blocked' (barrier-free 4×8 register blocks; fastest on SwiftShader per PERF-NOTES) and 'tiled'
// (shared-memory 64×64 tiles for real GPUs). Knows nothing about SAEs. Build once, record per step.
import blockedCode from '../../shaders/gemm_blocked.wgsl?raw';
import gemmCommonCode from '../../shaders/gemm_common.wgsl?raw';
import blockedBVec4Code from '../../shaders/gemm_blocked_bvec4.wgsl?raw';
import blockedKVec4Code from '../../shaders/gemm_blocked_kvec4.wgsl?raw';
import blockedVec4Code from '../../shaders/gemm_blocked_vec4.wgsl?raw';
import tiledCode from '../../shaders/gemm_tiled.wgsl?raw';
import { createStorageBuffer, createUniformBuffer } from './buffers';
import { bindNamed, createNamedKernel, type NamedKernel } from './kernel';

export type GemmDesign = 'blocked' | 'tiled';
/** NN: C = A·B; TN: C = Aᵀ·B (A stored K×M); NT: C = A·Bᵀ (B stored N×K). All row-major. */
export type GemmLayout = 'NN' | 'TN' | 'NT';

export interface GemmShape {
  layout: GemmLayout;
  /** Rows of C. */
  M: number;
  /** Columns of C. */
  N: number;
  /** Reduction length. */
  K: number;
  /** Add into the existing C instead of overwriting it. */
  accumulate?: boolean;
  /** Element offsets into the bound buffers (for chunked operands). */
  offA?: number;
  offB?: number;
  offC?: number;
  /** Row stride of C (default N). */
  ldc?: number;
  /** Element offset into the bias buffer (column j adds bias[offBias + j]). */
  offBias?: number;
  /** Row stride of the stored A / B when they are wider than the product needs (default: dense). */
  lda?: number;
  ldb?: number;
}

/** The design that suits the adapter: blocked on SwiftShader, tiled elsewhere. */
export function pickGemmDesign(isSwiftShader: boolean): GemmDesign {
  return isSwiftShader ? 'blocked' : 'tiled';
}

/** The 16 u32 of the Gemm uniform (see shaders/gemm_blocked.wgsl). */
export function gemmUniform(s: GemmShape, hasBias: boolean): Uint32Array<ArrayBuffer> {
  const { M, N, K } = s;
  let sAm: number, sAk: number, sBk: number, sBn: number;
  switch (s.layout) {
    case 'NN': // A [M, K], B [K, N]
      [sAm, sAk, sBk, sBn] = [s.lda ?? K, 1, s.ldb ?? N, 1];
      break;
    case 'TN': // A stored [K, M], B [K, N]
      [sAm, sAk, sBk, sBn] = [1, s.lda ?? M, s.ldb ?? N, 1];
      break;
    case 'NT': // A [M, K], B stored [N, K]
      [sAm, sAk, sBk, sBn] = [s.lda ?? K, 1, 1, s.ldb ?? K];
      break;
  }
  const flags = (s.accumulate ? 1 : 0) | (hasBias ? 2 : 0);
  return new Uint32Array([
    M,
    N,
    K,
    flags,
    sAm,
    sAk,
    sBk,
    sBn,
    s.offA ?? 0,
    s.offB ?? 0,
    s.offC ?? 0,
    s.ldc ?? N,
    s.offBias ?? 0,
    0,
    0,
    0,
  ]);
}

/** The kernels behind the designs: 'blocked' has vec4 variants for B contiguous along n (NN, TN), for
 *  A and B both contiguous along k (NT), and for A alone contiguous along k. */
export type GemmKernel = 'blocked' | 'blocked_vec4' | 'blocked_bvec4' | 'blocked_kvec4' | 'tiled';

/** gemm_blocked_vec4.wgsl applies: A contiguous along k with K, its row stride and offset multiples of 4. */
export function vec4Eligible(s: GemmShape): boolean {
  const u = gemmUniform(s, false);
  const [, , K, , sAm, sAk, , , offA] = u;
  return sAk === 1 && K % 4 === 0 && sAm % 4 === 0 && offA % 4 === 0;
}

/** gemm_blocked_bvec4.wgsl applies: B contiguous along n, N a multiple of 8, its k stride and offset of 4. */
export function bVec4Eligible(s: GemmShape): boolean {
  const u = gemmUniform(s, false);
  const [, N, , , , , sBk, sBn, , offB] = u;
  return sBn === 1 && N % 8 === 0 && sBk % 4 === 0 && offB % 4 === 0;
}

/** gemm_blocked_kvec4.wgsl applies: A as in vec4Eligible, and B contiguous along k with its column
 *  stride and offset multiples of 4. */
export function kVec4Eligible(s: GemmShape): boolean {
  const u = gemmUniform(s, false);
  const [, , , , , , sBk, sBn, , offB] = u;
  return vec4Eligible(s) && sBk === 1 && sBn % 4 === 0 && offB % 4 === 0;
}

/**
 * Which blocked kernel runs a shape on SwiftShader: the one with the fewest loads per multiply-add.
 * Measured (Dawn/SwiftShader, SAE step at d 512, d_sae 4096, 512 tokens, ms per GEMM): NN 2693 → 1159
 * and TN ≈ 5100 → ≈ 1100 with B as vec4 along n; NT 2288 → 1624 with both operands as vec4 along k (the whole step: 18.2 s → 7.6 s).
 */
export function gemmKernelFor(design: GemmDesign, s: GemmShape): GemmKernel {
  if (design === 'tiled') return 'tiled';
  if (bVec4Eligible(s)) return 'blocked_bvec4';
  if (kVec4Eligible(s)) return 'blocked_kvec4';
  return vec4Eligible(s) ? 'blocked_vec4' : 'blocked';
}

/** A GEMM kernel's code with the shared Gemm struct (shaders/gemm_common.wgsl) in front. */
export function withGemmStruct(code: string): string {
  return `${gemmCommonCode}\n${code}`;
}

const pipelines = new WeakMap<GPUDevice, Map<GemmKernel, NamedKernel>>();

/** A GEMM kernel's pipeline with the binding names its WGSL declares, built once per device. */
export function gemmKernel(device: GPUDevice, design: GemmKernel): NamedKernel {
  let byDesign = pipelines.get(device);
  if (!byDesign) pipelines.set(device, (byDesign = new Map()));
  let p = byDesign.get(design);
  if (!p) {
    const code: Record<GemmKernel, string> = {
      blocked: blockedCode,
      blocked_vec4: blockedVec4Code,
      blocked_bvec4: blockedBVec4Code,
      blocked_kvec4: blockedKVec4Code,
      tiled: tiledCode,
    };
    p = createNamedKernel(device, {
      label: `gemm.${design}`,
      code: withGemmStruct(code[design]),
      constants: design === 'tiled' ? { TILE_K: 16 } : undefined,
    });
    byDesign.set(design, p);
  }
  return p;
}

/**
 * What a GemmOp binds, by the names every gemm_*.wgsl declares: the Gemm uniform `g`, the operands `A`,
 * `B`, the result `C` and the column `bias` (bindNamed checks them against the kernel's declarations).
 */
export function gemmBindings(
  g: GPUBuffer,
  A: GPUBuffer,
  B: GPUBuffer,
  C: GPUBuffer,
  bias: GPUBuffer,
): Record<string, GPUBuffer> {
  return { g, A, B, C, bias };
}

/** One GEMM with fixed operands: its uniform and bind group are made here, once. */
export class GemmOp {
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;
  readonly uniform: GPUBuffer;
  private readonly workgroups: [number, number];
  private readonly placeholder?: GPUBuffer;
  /** The kernel this shape runs on (the vec4 variant of 'blocked' when the operands allow it). */
  readonly kernel: GemmKernel;

  constructor(
    device: GPUDevice,
    readonly label: string,
    readonly design: GemmDesign,
    readonly shape: GemmShape,
    A: GPUBuffer,
    B: GPUBuffer,
    C: GPUBuffer,
    /** Column bias [N]; without one a small placeholder is bound (WebGPU needs every binding). */
    bias?: GPUBuffer,
  ) {
    this.kernel = gemmKernelFor(design, shape);
    const kernel = gemmKernel(device, this.kernel);
    this.pipeline = kernel.pipeline;
    this.uniform = createUniformBuffer(device, `${label}.dims`, 64);
    device.queue.writeBuffer(this.uniform, 0, gemmUniform(shape, !!bias));
    if (!bias) this.placeholder = createStorageBuffer(device, `${label}.noBias`, 16);
    const biasBuf = bias ?? this.placeholder!;
    this.bindGroup = bindNamed(device, kernel, `${label}.bind`, gemmBindings(this.uniform, A, B, C, biasBuf));
    this.workgroups =
      design === 'blocked'
        ? [Math.ceil(shape.N / 64), Math.ceil(shape.M / 16)]
        : [Math.ceil(shape.N / 64), Math.ceil(shape.M / 64)];
    if (this.workgroups[0] > 65535 || this.workgroups[1] > 65535)
      throw new Error(`${label}: ${shape.M}×${shape.N} needs more than 65535 workgroups per dimension`);
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
