// The language model's own WGSL kernels (shaders/lm_*.wgsl) as recorded operations: each LmOp owns its
// uniform and bind group, made once at construction, and only records a dispatch per forward pass. The
// GEMMs (x·W, h·W_Uᵀ) are src/gpu/gemm.ts's GemmOp; biases ride in the GEMM epilogue.
import addCode from '../../../shaders/lm_add.wgsl?raw';
import attentionCode from '../../../shaders/lm_attention.wgsl?raw';
import centerCode from '../../../shaders/lm_center.wgsl?raw';
import embedCode from '../../../shaders/lm_embed.wgsl?raw';
import geluCode from '../../../shaders/lm_gelu.wgsl?raw';
import normCode from '../../../shaders/lm_norm.wgsl?raw';
import ropeCode from '../../../shaders/lm_rope.wgsl?raw';
import swigluCode from '../../../shaders/lm_swiglu.wgsl?raw';
import { createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import { grid } from '../../gpu/dispatch';
import { bindNamed, createNamedKernel, type NamedKernel } from '../../gpu/kernel';

const CODE = {
  embed: embedCode,
  norm: normCode,
  gelu: geluCode,
  swiglu: swigluCode,
  add: addCode,
  rope: ropeCode,
  attention: attentionCode,
  center: centerCode,
} as const;
export type LmKernel = keyof typeof CODE;

/** Longest head the attention kernel accepts (its private vec4 accumulator, shaders/lm_attention.wgsl);
 *  head_dim must also be a multiple of 4 (every GPT-2, Llama, llama2.c and Pythia model's is). */
export const MAX_HEAD_DIM = 256;

const pipelines = new WeakMap<GPUDevice, Map<string, NamedKernel>>();

function lmPipeline(device: GPUDevice, kernel: LmKernel, entryPoint = 'main'): NamedKernel {
  let byName = pipelines.get(device);
  if (!byName) pipelines.set(device, (byName = new Map()));
  const key = `${kernel}.${entryPoint}`;
  let p = byName.get(key);
  if (!p)
    byName.set(key, (p = createNamedKernel(device, { label: `lm.${key}`, code: CODE[kernel], entryPoint })));
  return p;
}

/** A uniform struct of 8 four-byte fields: integers as u32, { f32 } as f32. */
type Field = number | { f32: number };
function packUniform(fields: Field[]): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const view = new DataView(buf);
  fields.forEach((f, i) =>
    typeof f === 'number' ? view.setUint32(i * 4, f, true) : view.setFloat32(i * 4, f.f32, true),
  );
  return buf;
}

/**
 * One dispatch of a kernel with fixed buffers and uniform, bound by the names its WGSL declares (the
 * uniform as `uniformName`; bindNamed refuses a missing or misspelt name). A null buffer binds a 16-byte
 * placeholder.
 */
export class LmOp {
  private readonly bindGroup: GPUBindGroup;
  private readonly uniform: GPUBuffer;
  private readonly placeholder?: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;

  constructor(
    device: GPUDevice,
    readonly label: string,
    kernel: NamedKernel,
    uniformName: string,
    uniform: ArrayBuffer | Uint32Array<ArrayBuffer>,
    buffers: Readonly<Record<string, GPUBuffer | null>>,
    private readonly workgroups: [number, number],
  ) {
    this.pipeline = kernel.pipeline;
    this.uniform = createUniformBuffer(device, `${label}.dims`, uniform.byteLength);
    device.queue.writeBuffer(this.uniform, 0, uniform);
    if (Object.values(buffers).includes(null))
      this.placeholder = createStorageBuffer(device, `${label}.none`, 16);
    const bound = Object.fromEntries(Object.entries(buffers).map(([n, b]) => [n, b ?? this.placeholder!]));
    this.bindGroup = bindNamed(device, kernel, `${label}.bind`, { [uniformName]: this.uniform, ...bound });
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

/** An lm_*.wgsl kernel's op: its cached pipeline and an 8-field uniform `u`. */
function lmOp(
  device: GPUDevice,
  label: string,
  kernel: LmKernel,
  fields: Field[],
  buffers: Readonly<Record<string, GPUBuffer | null>>,
  workgroups: [number, number],
  entryPoint?: string,
): LmOp {
  const k = lmPipeline(device, kernel, entryPoint);
  return new LmOp(device, label, k, 'u', packUniform(fields), buffers, workgroups);
}

const elementwise = (count: number) => grid(Math.ceil(count / 256));

/** x [N, d] ← W_E block rows v0…v0+rows−1 gathered by ids (+ W_pos[n mod T] when given); f32 rows. */
export function embedOp(
  device: GPUDevice,
  label: string,
  s: { N: number; T: number; d: number; v0: number; rows: number },
  ids: GPUBuffer,
  W_E: GPUBuffer,
  W_pos: GPUBuffer | null,
  x: GPUBuffer,
): LmOp {
  const fields = [s.N, s.T, s.d, s.v0, s.rows, W_pos ? 1 : 0, 0, 0]; // half = 0
  return lmOp(device, label, 'embed', fields, { ids, W_E, W_pos, x }, elementwise(s.N * s.d));
}

/** As embedOp, from an f16 block stored transposed as packed halves [d, ld]. */
export function embedF16Op(
  device: GPUDevice,
  label: string,
  s: { N: number; T: number; d: number; v0: number; rows: number; ld: number },
  ids: GPUBuffer,
  W: GPUBuffer,
  W_pos: GPUBuffer | null,
  x: GPUBuffer,
): LmOp {
  const fields = [s.N, s.T, s.d, s.v0, s.rows, W_pos ? 1 : 0, 1, s.ld];
  return lmOp(device, label, 'embed', fields, { ids, W_E: W, W_pos, x }, elementwise(s.N * s.d));
}

/**
 * y [N, d] = LayerNorm(x)·w + b, or RMSNorm(x)·w when b is null. `perRow`: one invocation per row with no
 * barriers (SwiftShader) instead of a workgroup per row.
 */
export function normOp(
  device: GPUDevice,
  label: string,
  N: number,
  d: number,
  eps: number,
  x: GPUBuffer,
  w: GPUBuffer,
  b: GPUBuffer | null,
  y: GPUBuffer,
  perRow = false,
): LmOp {
  const fields = [N, d, { f32: eps }, b ? 0 : 1];
  const wg = perRow ? grid(Math.ceil(N / 64)) : grid(N);
  return lmOp(device, label, 'norm', fields, { x, w, b, y }, wg, perRow ? 'rows' : 'main');
}

/** x ← gelu_new(x) over count elements. */
export function geluOp(device: GPUDevice, label: string, count: number, x: GPUBuffer): LmOp {
  return lmOp(device, label, 'gelu', [count], { x }, elementwise(count));
}

/** up ← silu(gate)·up over count elements. */
export function swigluOp(
  device: GPUDevice,
  label: string,
  count: number,
  gate: GPUBuffer,
  up: GPUBuffer,
): LmOp {
  return lmOp(device, label, 'swiglu', [count], { gate, up }, elementwise(count));
}

/** x ← x + y over count elements. */
export function addOp(device: GPUDevice, label: string, count: number, x: GPUBuffer, y: GPUBuffer): LmOp {
  return lmOp(device, label, 'add', [count], { x, y }, elementwise(count));
}

/** x [N, nHeads·headDim] rotated in place from the [T, headDim/2] cos/sin table. */
export function ropeOp(
  device: GPUDevice,
  label: string,
  s: { N: number; T: number; nHeads: number; headDim: number; interleaved: boolean },
  cos: GPUBuffer,
  sin: GPUBuffer,
  x: GPUBuffer,
): LmOp {
  const fields = [s.N, s.T, s.nHeads, s.headDim, s.interleaved ? 1 : 0];
  return lmOp(
    device,
    label,
    'rope',
    fields,
    { cosT: cos, sinT: sin, x },
    elementwise((s.N * s.nHeads * s.headDim) / 2),
  );
}

/** z = causal softmax(q·kᵀ/√headDim)·v per head, over S sequences of T rows, kv heads shared in groups. */
export function attentionOp(
  device: GPUDevice,
  label: string,
  s: { S: number; T: number; nHeads: number; nKv: number; headDim: number },
  q: GPUBuffer,
  k: GPUBuffer,
  v: GPUBuffer,
  z: GPUBuffer,
): LmOp {
  if (s.headDim > MAX_HEAD_DIM || s.headDim % 4 !== 0)
    throw new Error(`${label}: head_dim ${s.headDim} is not a multiple of 4 up to ${MAX_HEAD_DIM}`);
  const fields = [s.S, s.T, s.nHeads, s.nKv, s.headDim, { f32: 1 / Math.sqrt(s.headDim) }];
  return lmOp(
    device,
    label,
    'attention',
    fields,
    { q, k, v, z },
    grid(Math.ceil((s.S * s.T * s.nHeads) / 64)),
  );
}

/** x [N, d] ← each row minus its mean (TransformerLens's centring of the hooks). */
export function centerOp(device: GPUDevice, label: string, N: number, d: number, x: GPUBuffer): LmOp {
  return lmOp(device, label, 'center', [N, d], { x }, grid(Math.ceil(N / 64)));
}
