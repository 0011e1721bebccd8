// The GEMM with f16-packed weights (shaders/lm_gemm_f16w.wgsl) as a recorded op (LmOp), the f16
// counterpart of src/gpu/gemm.ts's GemmOp: the same Gemm uniform (gemmUniform, B's strides in halves).
import gemmF16Code from '../../../shaders/lm_gemm_f16w.wgsl?raw';
import { gemmUniform, withGemmStruct, type GemmShape } from '../../gpu/gemm';
import { createNamedKernel, type NamedKernel } from '../../gpu/kernel';
import { LmOp } from './kernels';

const pipelines = new WeakMap<GPUDevice, NamedKernel>();

/** C = A·B (+ bias) with B packed halves; layout NN only (B [K, N] with row stride ldb halves, even). */
export function gemmF16Op(
  device: GPUDevice,
  label: string,
  shape: GemmShape,
  A: GPUBuffer,
  B: GPUBuffer,
  C: GPUBuffer,
  bias?: GPUBuffer,
): LmOp {
  const ldb = shape.ldb ?? shape.N;
  if (shape.layout !== 'NN' || ldb % 2 !== 0 || (shape.offB ?? 0) % 2 !== 0)
    throw new Error(`${label}: f16 weights need the NN layout with an even ldb and offB`);
  let p = pipelines.get(device);
  if (!p)
    pipelines.set(
      device,
      (p = createNamedKernel(device, { label: 'lm.gemm_f16w', code: withGemmStruct(gemmF16Code) })),
    );
  const workgroups: [number, number] = [Math.ceil(shape.N / 64), Math.ceil(shape.M / 16)];
  if (workgroups[0] > 65535 || workgroups[1] > 65535)
    throw new Error(`${label}: ${shape.M}×${shape.N} needs more than 65535 workgroups per dimension`);
  const uniform = gemmUniform({ ...shape, ldb }, !!bias);
  return new LmOp(device, label, p, 'g', uniform, { A, B, C, bias: bias ?? null }, workgroups);
}
