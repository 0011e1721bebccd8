// GPU side of issue 14's method kernels (shaders/matryoshka_*.wgsl, infonce_*.wgsl): the shared structs
// put in front of each kernel, uniform packing in the structs' field order (shaders/method_common.wgsl),
// and runners that build buffers, record every pass in one command buffer (bound by name, as the
// trainer binds them) and read the outputs back (parity tests; the trainer's stage builders record the
// same kernels: src/sae/gpu/passes/losses.ts, backward.ts). CPU twins: src/sae/twins/matryoshka.ts,
// infonce.ts.
import methodCommonCode from '../../../shaders/method_common.wgsl?raw';
import nceAddCode from '../../../shaders/infonce_add.wgsl?raw';
import nceGradCode from '../../../shaders/infonce_grad.wgsl?raw';
import nceLogitsCode from '../../../shaders/infonce_logits.wgsl?raw';
import nceLseCode from '../../../shaders/infonce_lse.wgsl?raw';
import nceNormsCode from '../../../shaders/infonce_norms.wgsl?raw';
import nceSoftmaxCode from '../../../shaders/infonce_softmax.wgsl?raw';
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
import { bindNamed, createNamedKernel, type NamedKernel } from '../../gpu/kernel';
import { MATRYOSHKA_MAX_GROUPS } from '../architectures/matryoshka';
import { nceRoles, type NceInputs } from '../twins/infonce';
import type { MatInputs } from '../twins/matryoshka';

/** Groups struct Mat holds (shaders/method_common.wgsl). */
export const MAX_GROUPS = MATRYOSHKA_MAX_GROUPS;

export function withMethodStructs(code: string): string {
  return `${methodCommonCode}\n${code}`;
}

/** struct Mat (96 bytes), into `buf` when given (the trainer writes one per batch). */
export function packMat(
  a: Pick<MatInputs, 'N' | 'd' | 'm' | 'nValid' | 'ends' | 'weights'>,
  buf: ArrayBuffer = new ArrayBuffer(96),
): ArrayBuffer {
  const G = a.ends.length;
  if (G < 1 || G > MAX_GROUPS) throw new Error(`Matryoshka kernels take 1..${MAX_GROUPS} groups (got ${G})`);
  if (a.weights.length !== G) throw new Error(`Matryoshka: ${G} prefix ends but ${a.weights.length} weights`);
  new Uint8Array(buf).fill(0);
  const u = new Uint32Array(buf),
    fl = new Float32Array(buf);
  u.set([a.N, a.d, a.m, G, a.nValid, 0, 0, 0]);
  for (let g = 0; g < G; g++) {
    u[8 + g] = a.ends[g];
    fl[16 + g] = a.weights[g];
  }
  return buf;
}

/** struct Nce (32 bytes). `coef`: the factor infonce_add.wgsl applies (contrastive_coefficient). */
export function packNce(
  a: Pick<NceInputs, 'N' | 'm' | 'H' | 'tau' | 'cosine'> & { P: number; coef?: number },
  buf: ArrayBuffer = new ArrayBuffer(32),
): ArrayBuffer {
  const u = new Uint32Array(buf),
    fl = new Float32Array(buf);
  u.set([a.P, a.H, a.m, a.N, a.cosine ? 1 : 0, 0]);
  fl[6] = 1 / a.tau;
  fl[7] = a.coef ?? 1;
  return buf;
}

/** One kernel's dispatch: its buffers by the names the WGSL declares (bindNamed checks them), n invocations. */
type Step = [NamedKernel, Record<string, GPUBuffer>, number];

const pipelines = new WeakMap<GPUDevice, Map<string, NamedKernel>>();

/** A method kernel's pipeline with its declared bindings, built once per device, code and workgroup size. */
function kernel(device: GPUDevice, label: string, code: string, wg: number): NamedKernel {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  const key = `${label}/${wg}`;
  let k = cache.get(key);
  if (!k) {
    const constants: Record<string, number> = code.includes('override WG') ? { WG: wg } : {};
    k = createNamedKernel(device, { label, code: withMethodStructs(code), constants });
    cache.set(key, k);
  }
  return k;
}

/** Each step in its own compute pass (its outputs visible to the next), all in one submit. */
function submitSteps(device: GPUDevice, label: string, steps: Step[], wg: number): void {
  const enc = device.createCommandEncoder({ label });
  for (const [k, bufs, n] of steps) {
    const pass = enc.beginComputePass({ label: k.label });
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, bindNamed(device, k, `${k.label}.bind`, bufs));
    const [x, y] = grid(Math.ceil(n / wg));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }
  device.queue.submit([enc.finish()]);
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
  // The trainer's row flags (bit 1 valid; bit 0, start, is not read here).
  const rowflags = createBufferWithData(
    device,
    'mat.rowflags',
    Uint32Array.from(a.valid, (v) => (v ? 2 : 0)),
  );
  const resid = createStorageBuffer(device, 'mat.resid', G * N * d * 4);
  const cgrad = createStorageBuffer(device, 'mat.cgrad', G * N * d * 4);
  const rowLoss = createStorageBuffer(device, 'mat.rowLoss', G * N * 4);
  const gF = createStorageBuffer(device, 'mat.gF', N * m * 4);
  const gW = createStorageBuffer(device, 'mat.gWdec', m * d * 4);
  const k = (label: string, code: string) => kernel(device, label, code, wg);
  const steps: Step[] = [
    [k('mat.resid', matResidCode), { p: params, x, f, w_dec: W, b_dec: b, rowflags, resid, cgrad }, N * d],
    [k('mat.rowloss', matRowLossCode), { p: params, resid, row_loss: rowLoss }, G * N],
    [k('mat.grad_f', matGradFCode), { p: params, cgrad, w_dec: W, g_f: gF }, N * m],
    [k('mat.grad_wdec', matGradWdecCode), { p: params, cgrad, f, g_out: gW }, m * d],
  ];
  submitSteps(device, 'mat', steps, wg);
  const out = {
    resid: await readFloat32(device, resid),
    cgrad: await readFloat32(device, cgrad),
    rowLoss: await readFloat32(device, rowLoss),
    gF: await readFloat32(device, gF),
    gWdec: await readFloat32(device, gW),
  };
  for (const buf of [params, x, f, W, b, rowflags, resid, cgrad, rowLoss, gF, gW]) buf.destroy();
  return out;
}

export interface NceOutputs {
  norms: Float32Array;
  logits: Float32Array;
  lse: Float32Array;
  loss: number;
  gmat: Float32Array;
  gCode: Float32Array;
  /** `add.g` after infonce_add.wgsl added add.coef·(both sides of g_code) into its first H columns. */
  gAdded: Float32Array;
}

/**
 * The four InfoNCE kernels on one batch's f, then infonce_add into `add.g` ([N, m], zeros by default),
 * one submit; outputs read back.
 */
export async function runInfoNce(
  device: GPUDevice,
  a: NceInputs,
  wg = 64,
  add: { g?: ArrayLike<number>; coef: number } = { coef: 1 },
): Promise<NceOutputs> {
  const { N, H } = a;
  const P = a.cur.length;
  const params = createUniformBuffer(device, 'nce.params', 32);
  device.queue.writeBuffer(params, 0, packNce({ ...a, P, coef: add.coef }));
  const f = createBufferWithData(device, 'nce.f', Float32Array.from(a.f));
  const pairs = createBufferWithData(
    device,
    'nce.pairs',
    Uint32Array.from([...Array.from(a.cur), ...Array.from(a.prev)]),
  );
  const role = createBufferWithData(device, 'nce.role', nceRoles(N, a.cur, a.prev));
  const norms = createStorageBuffer(device, 'nce.norms', 2 * P * 4);
  const logits = createStorageBuffer(device, 'nce.logits', P * P * 4);
  const lse = createStorageBuffer(device, 'nce.lse', 2 * P * 4);
  const loss = createStorageBuffer(device, 'nce.loss', 4);
  const gmat = createStorageBuffer(device, 'nce.gmat', P * P * 4);
  const gCode = createStorageBuffer(device, 'nce.gCode', 2 * N * H * 4);
  const g = createBufferWithData(device, 'nce.g', Float32Array.from(add.g ?? new Float32Array(N * a.m)));
  const k = (label: string, code: string) => kernel(device, label, code, wg);
  const steps: Step[] = [
    [k('nce.norms', nceNormsCode), { p: params, f, pairs, norms }, 2 * P],
    [k('nce.logits', nceLogitsCode), { p: params, f, pairs, norms, logits }, P * P],
    [k('nce.lse', nceLseCode), { p: params, logits, lse, loss }, wg], // one workgroup
    [k('nce.softmax', nceSoftmaxCode), { p: params, logits, lse, gmat }, P * P],
    [k('nce.grad', nceGradCode), { p: params, f, pairs, role, norms, gmat, g_code: gCode }, 2 * N],
    [k('nce.add', nceAddCode), { p: params, g_code: gCode, g }, N * H],
  ];
  submitSteps(device, 'nce', steps, wg);
  const out = {
    norms: await readFloat32(device, norms),
    logits: await readFloat32(device, logits),
    lse: await readFloat32(device, lse),
    loss: (await readFloat32(device, loss))[0],
    gmat: await readFloat32(device, gmat),
    gCode: await readFloat32(device, gCode),
    gAdded: await readFloat32(device, g),
  };
  for (const b of [params, f, pairs, role, norms, logits, lse, loss, gmat, gCode, g]) b.destroy();
  return out;
}
