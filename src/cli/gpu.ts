// A WebGPU device in Node through Dawn (the `webgpu` npm package), for the CLI. On a machine with a
// GPU Dawn uses its Vulkan/Metal/D3D12 driver. Without one, `--adapter swiftshader` points the Vulkan
// loader at SwiftShader's ICD (Debian's chromium package ships it), like the test setup does.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { adapterName, requestGpu, type GpuContext } from '../gpu/device';
import { UsageError } from './args';

export const SWIFTSHADER_ICD_PATHS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

// Dawn tears its instance down when the GPU object is collected: keep it for the process's life.
let dawn: GPU | undefined;

/** `adapter`: 'auto' (Dawn's choice, the real GPU when there is one) or 'swiftshader'. */
export async function openCliGpu(adapter: string | undefined): Promise<GpuContext> {
  if (adapter === 'swiftshader') {
    const icd = process.env.TEMPOSAE_SWIFTSHADER_ICD ?? SWIFTSHADER_ICD_PATHS.find((p) => existsSync(p));
    if (!icd)
      throw new UsageError(
        `--adapter swiftshader: no SwiftShader Vulkan ICD found (looked in ${SWIFTSHADER_ICD_PATHS.join(', ')}); install Debian's chromium or set TEMPOSAE_SWIFTSHADER_ICD`,
      );
    process.env.VK_ICD_FILENAMES = icd;
  } else if (adapter !== undefined && adapter !== 'auto') {
    throw new UsageError(`--adapter must be 'auto' or 'swiftshader' (got '${adapter}')`);
  }
  Object.assign(globalThis, globals);
  dawn ??= create([]);
  try {
    return await requestGpu(dawn, 'TempoSAE-cli');
  } catch (e) {
    throw new Error(
      `${(e as Error).message} Without a GPU, run with --adapter swiftshader (slow but exact), or set VK_ICD_FILENAMES.`,
    );
  }
}

export function describeGpu(g: GpuContext): string {
  return adapterName(g.adapter);
}
