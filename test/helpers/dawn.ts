// A real WebGPU device in Node through Dawn (the `webgpu` npm package). On machines without a GPU,
// vite.config.ts points VK_ICD_FILENAMES at Debian Chromium's SwiftShader ICD.
import { create, globals } from 'webgpu';
import { requestGpu, type GpuContext } from '../../src/gpu/device';

let ctx: Promise<GpuContext> | undefined;
// Dawn tears the instance down when its GPU object is collected, so keep it referenced for the worker's life.
let dawnGpu: GPU | undefined;

/** One device per test worker, shared by every test in it. */
export function getTestGpu(): Promise<GpuContext> {
  if (!ctx) {
    // Dawn's GPUBuffer, GPUBufferUsage, … must be globals for code written against the browser API.
    Object.assign(globalThis, globals);
    dawnGpu = create([]);
    ctx = requestGpu(dawnGpu, 'TempoSAE-test');
  }
  return ctx;
}

/** A device of its own (tests that destroy it must not take the shared one down). */
export async function newTestGpu(label = 'TempoSAE-test-own'): Promise<GpuContext> {
  await getTestGpu();
  return requestGpu(dawnGpu, label);
}

/** Dawn's GPU object (navigator.gpu's stand-in), for code that requests its own device (the engine's deps). */
export async function testGpuApi(): Promise<GPU> {
  await getTestGpu();
  return dawnGpu!;
}
