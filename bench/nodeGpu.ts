// A WebGPU `GPU` object in Node through Dawn (the `webgpu` npm package), for the bench. Both the
// trainer and the TensorFlow.js peer take their adapter from this one object, so they run on the same
// adapter (the JSON lines name it, and the bench refuses to compare if the two disagree).
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

/** Debian Chromium's SwiftShader Vulkan ICD, the same fallback vite.config.ts uses for the GPU tests. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Dawn tears its instance down when the GPU object is collected: keep it for the process's life.
let dawnGpu: GPU | undefined;

/**
 * Dawn's GPU object, with its GPUBuffer, GPUBufferUsage, … installed as globals (code written against
 * the browser API needs them). Without VK_ICD_FILENAMES and with no Vulkan driver found, falls back to
 * SwiftShader when its ICD is installed; `swiftshader: true` forces it.
 */
export async function nodeGpu(opts: { swiftshader?: boolean } = {}): Promise<GPU> {
  if (dawnGpu) return dawnGpu;
  Object.assign(globalThis, globals);
  if (opts.swiftshader && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  let gpu = create([]);
  if (!(await gpu.requestAdapter()) && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    // The Vulkan loader reads VK_ICD_FILENAMES when an instance is created, so a fresh one sees it.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = create([]);
  }
  dawnGpu = gpu;
  // tf.js's WebGPUBackend refuses to start unless navigator.gpu exists (Node 20 has no navigator;
  // Node 21+ has one without gpu).
  const nav = (globalThis as { navigator?: object }).navigator;
  if (!nav) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  else if (!('gpu' in nav)) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  return gpu;
}
