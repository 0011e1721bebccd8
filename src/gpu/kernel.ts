// Compute pipelines from WGSL source. Settings reach WGSL as `override` constants, never by string pasting.

export interface KernelSpec {
  label: string;
  code: string;
  entryPoint?: string;
  constants?: Record<string, number>;
}

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

function shaderModule(device: GPUDevice, label: string, code: string): GPUShaderModule {
  let cache = moduleCache.get(device);
  if (!cache) moduleCache.set(device, (cache = new Map()));
  let mod = cache.get(code);
  if (!mod) {
    mod = device.createShaderModule({ label, code });
    cache.set(code, mod);
  }
  return mod;
}

/** Build a compute pipeline with an auto layout. Call once at construction, never per step. */
export function createKernel(device: GPUDevice, spec: KernelSpec): GPUComputePipeline {
  return device.createComputePipeline({
    label: spec.label,
    layout: 'auto',
    compute: {
      module: shaderModule(device, spec.label, spec.code),
      entryPoint: spec.entryPoint ?? 'main',
      constants: spec.constants,
    },
  });
}

/** Bind group for group 0 with the given buffers at bindings 0..n-1. */
export function bindBuffers(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  label: string,
  buffers: (GPUBuffer | GPUBufferBinding)[],
): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((b, i) => ({
      binding: i,
      resource: b instanceof GPUBuffer ? { buffer: b } : b,
    })),
  });
}

/** Check a WGSL module for compile errors (Dawn reports them asynchronously). */
export async function compilationErrors(device: GPUDevice, code: string): Promise<string[]> {
  const mod = device.createShaderModule({ code });
  const info = await mod.getCompilationInfo();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}
