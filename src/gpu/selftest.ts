// A tiny matmul run on the device at startup and compared with its CPU twin, so a broken driver or
// emulator is caught before training rather than as silently wrong losses.
import code from '../../shaders/selftest_matmul.wgsl?raw';
import { createBufferWithData, createStorageBuffer, createUniformBuffer, readFloat32 } from './buffers';
import { bindNamed, createNamedKernel } from './kernel';

export function matmulCpu(a: Float32Array, b: Float32Array, M: number, N: number, K: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k];
      for (let j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
    }
  return c;
}

export async function matmulGpu(
  device: GPUDevice,
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
): Promise<Float32Array> {
  const kernel = createNamedKernel(device, { label: 'selftest.matmul', code });
  const dims = createUniformBuffer(device, 'selftest.dims', 16);
  device.queue.writeBuffer(dims, 0, new Uint32Array([M, N, K, 0]));
  const bufA = createBufferWithData(device, 'selftest.A', a);
  const bufB = createBufferWithData(device, 'selftest.B', b);
  const bufC = createStorageBuffer(device, 'selftest.C', M * N * 4);
  const group = bindNamed(device, kernel, 'selftest.bind', { dims, A: bufA, B: bufB, C: bufC });
  const enc = device.createCommandEncoder({ label: 'selftest' });
  const pass = enc.beginComputePass({ label: 'selftest.matmul' });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil(N / 8), Math.ceil(M / 8));
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = await readFloat32(device, bufC, 0, M * N);
  for (const buf of [dims, bufA, bufB, bufC]) buf.destroy();
  return out;
}

export interface SelfTestResult {
  ok: boolean;
  maxAbsError: number;
  /** Element count compared. */
  count: number;
  ms: number;
}

/** Deterministic small integers keep the exact answer representable, so any error is a real fault. */
export async function runGpuSelfTest(device: GPUDevice): Promise<SelfTestResult> {
  const M = 37,
    N = 29,
    K = 53; // odd sizes exercise the bounds checks
  const a = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 11) - 5);
  const b = Float32Array.from({ length: K * N }, (_, i) => ((i * 5) % 13) - 6);
  const t0 = performance.now();
  const gpu = await matmulGpu(device, a, b, M, N, K);
  const ms = performance.now() - t0;
  const cpu = matmulCpu(a, b, M, N, K);
  let maxAbsError = 0;
  for (let i = 0; i < cpu.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(gpu[i] - cpu[i]));
  return { ok: maxAbsError === 0, maxAbsError, count: cpu.length, ms };
}
