import { describe, expect, it } from 'vitest';
import { matmulCpu, matmulGpu, runGpuSelfTest } from '../../src/gpu/selftest';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

describe('selftest matmul kernel (Dawn)', () => {
  it('runs on a real WebGPU device in Node', async () => {
    const gpu = await getTestGpu();
    expect(gpu.device).toBeTruthy();
    expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  });

  it('matches the CPU twin exactly on small integers', async () => {
    const { device } = await getTestGpu();
    const r = await runGpuSelfTest(device);
    expect(r.count).toBe(37 * 29);
    expect(r.maxAbsError).toBe(0);
    expect(r.ok).toBe(true);
  });

  it('matches the CPU twin on random floats (fp32 accumulation: atol 1e-5, rtol 1e-5 for K=64)', async () => {
    const { device } = await getTestGpu();
    const M = 20,
      N = 33,
      K = 64;
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const a = Float32Array.from({ length: M * K }, rnd);
    const b = Float32Array.from({ length: K * N }, rnd);
    const gpu = await matmulGpu(device, a, b, M, N, K);
    expectClose('matmul', gpu, matmulCpu(a, b, M, N, K), 1e-5, 1e-5);
  });
});
