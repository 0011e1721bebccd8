// GPU side of issue 14's method kernels (shaders/matryoshka_*.wgsl, infonce_*.wgsl): the shared structs
// put in front of each kernel, uniform packing in the structs' field order (shaders/method_common.wgsl),
// and runners that build buffers, record every pass in one command buffer and read the outputs back
// (parity tests; the trainer's stage builders record the same pipelines). CPU twins: src/sae/twins/
// matryoshka.ts, infonce.ts.
import methodCommonCode from '../../../shaders/method_common.wgsl?raw';
import matGradFCode from '../../../shaders/matryoshka_grad_f.wgsl?raw';
import matGradWdecCode from '../../../shaders/matryoshka_grad_wdec.wgsl?raw';
import matResidCode from '../../../shaders/matryoshka_resid.wgsl?raw';
import matRowLossCode from '../../../shaders/matryoshka_rowloss.wgsl?raw';
import {
  createBufferWithData,
  createStorageBuffer,
  createUniformBuffer,
  readFloat32,
} from '../../gpu/buffers';
import { grid } from '../../gpu/dispatch';
import { bindBuffers, createKernel } from '../../gpu/kernel';
import type { MatInputs } from '../twins/matryoshka';

export const MAX_GROUPS = 8;

export function withMethodStructs(code: string): string {
  return `${methodCommonCode}\n${code}`;
}

/** struct Mat (96 bytes). */
export function packMat(a: Pick<MatInputs, 'N' | 'd' | 'm' | 'nValid' | 'ends' | 'weights'>): ArrayBuffer {
  const G = a.ends.length;
  if (G < 1 || G > MAX_GROUPS) throw new Error(`Matryoshka kernels take 1..${MAX_GROUPS} groups (got ${G})`);
  if (a.weights.length !== G) throw new Error(`Matryoshka: ${G} prefix ends but ${a.weights.length} weights`);
  const buf = new ArrayBuffer(96);
  const u = new Uint32Array(buf),
    fl = new Float32Array(buf);
  u.set([a.N, a.d, a.m, G, a.nValid, 0, 0, 0]);
  for (let g = 0; g < G; g++) {
    u[8 + g] = a.ends[g];
    fl[16 + g] = a.weights[g];
  }
  return buf;
}

function dispatch1d(
  pass: GPUComputePassEncoder,
  pipeline: GPUComputePipeline,
  bind: GPUBindGroup,
  n: number,
  wg: number,
) {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  const [x, y] = grid(Math.ceil(n / wg));
  pass.dispatchWorkgroups(x, y);
}

export interface MatOutputs {
  resid: Float32Array;
  cgrad: Float32Array;
  rowLoss: Float32Array;
  gF: Float32Array;
  gWdec: Float32Array;
}

/** All four Matryoshka kernels on one batch, one submit; outputs read back. */
export async function runMatryoshka(device: GPUDevice, a: MatInputs, wg = 64): Promise<MatOutputs> {
  const { N, d, m } = a;
  const G = a.ends.length;
  const params = createUniformBuffer(device, 'mat.params', 96);
  device.queue.writeBuffer(params, 0, packMat(a));
  const f32 = (label: string, v: ArrayLike<number>) =>
    createBufferWithData(device, label, Float32Array.from(v));
  const x = f32('mat.x', a.x),
    f = f32('mat.f', a.f),
    W = f32('mat.W_dec', a.W_dec),
    b = f32('mat.b_dec', a.b_dec);
  const valid = createBufferWithData(
    device,
    'mat.valid',
    Uint32Array.from(a.valid, (v) => (v ? 1 : 0)),
  );
  const resid = createStorageBuffer(device, 'mat.resid', G * N * d * 4);
  const cgrad = createStorageBuffer(device, 'mat.cgrad', G * N * d * 4);
  const rowLoss = createStorageBuffer(device, 'mat.rowLoss', G * N * 4);
  const gF = createStorageBuffer(device, 'mat.gF', N * m * 4);
  const gW = createStorageBuffer(device, 'mat.gWdec', (m + 1) * d * 4);
  const k = (label: string, code: string) =>
    createKernel(device, { label, code: withMethodStructs(code), constants: { WG: wg } });
  const steps: [GPUComputePipeline, GPUBuffer[], number][] = [
    [k('mat.resid', matResidCode), [params, x, f, W, b, valid, resid, cgrad], N * d],
    [k('mat.rowloss', matRowLossCode), [params, resid, rowLoss], G * N],
    [k('mat.grad_f', matGradFCode), [params, cgrad, W, gF], N * m],
    [k('mat.grad_wdec', matGradWdecCode), [params, cgrad, f, gW], (m + 1) * d],
  ];
  const enc = device.createCommandEncoder({ label: 'mat' });
  for (const [pipeline, bufs, n] of steps) {
    const pass = enc.beginComputePass({ label: pipeline.label });
    dispatch1d(pass, pipeline, bindBuffers(device, pipeline, `${pipeline.label}.bind`, bufs), n, wg);
    pass.end();
  }
  device.queue.submit([enc.finish()]);
  const out = {
    resid: await readFloat32(device, resid),
    cgrad: await readFloat32(device, cgrad),
    rowLoss: await readFloat32(device, rowLoss),
    gF: await readFloat32(device, gF),
    gWdec: await readFloat32(device, gW),
  };
  for (const buf of [params, x, f, W, b, valid, resid, cgrad, rowLoss, gF, gW]) buf.destroy();
  return out;
}
