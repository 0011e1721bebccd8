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

/**
 * The names of the group-0 resources a WGSL module declares, indexed by @binding
 * (`@group(0) @binding(2) var<storage, read> pre: …` gives names[2] = 'pre'). Comments are ignored;
 * throws when two declarations share a binding or a name, or the bindings leave a gap.
 */
export function declaredBindings(code: string, label = 'shader'): string[] {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const names: string[] = [];
  const decl = /((?:@\w+\s*\(\s*\d+\s*\)\s*)+)var\s*(?:<[^>]*>)?\s+(\w+)/g;
  for (let m; (m = decl.exec(text));) {
    const group = /@group\s*\(\s*(\d+)\s*\)/.exec(m[1]);
    const binding = /@binding\s*\(\s*(\d+)\s*\)/.exec(m[1]);
    if (!group || !binding || group[1] !== '0') continue;
    const i = Number(binding[1]);
    if (names[i] !== undefined) throw new Error(`${label}: @binding(${i}) is declared twice`);
    if (names.includes(m[2])) throw new Error(`${label}: two bindings are named ${m[2]}`);
    names[i] = m[2];
  }
  for (let i = 0; i < names.length; i++)
    if (names[i] === undefined) throw new Error(`${label}: no @binding(${i}) (bindings must be 0..n−1)`);
  return names;
}

/** A compute pipeline with the binding names its WGSL declares (bindNamed checks against them). */
export interface NamedKernel {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindings: readonly string[];
}

export function createNamedKernel(device: GPUDevice, spec: KernelSpec): NamedKernel {
  return {
    label: spec.label,
    pipeline: createKernel(device, spec),
    bindings: declaredBindings(spec.code, spec.label),
  };
}

/**
 * Bind group for group 0 from buffers given by the names the shader declares. Every declared binding
 * must be given and nothing else: a misspelt, missing or extra name throws, naming the kernel and both
 * lists, instead of binding the wrong buffer by position.
 */
export function bindNamed(
  device: GPUDevice,
  kernel: NamedKernel,
  label: string,
  buffers: Readonly<Record<string, GPUBuffer | GPUBufferBinding>>,
): GPUBindGroup {
  const given = Object.keys(buffers);
  const missing = kernel.bindings.filter((n) => !(n in buffers));
  const extra = given.filter((n) => !kernel.bindings.includes(n));
  if (missing.length || extra.length)
    throw new Error(
      `${label}: the bindings do not match ${kernel.label}'s declarations (${kernel.bindings.join(', ')})` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (extra.length ? `; not declared: ${extra.join(', ')}` : ''),
    );
  return bindBuffers(
    device,
    kernel.pipeline,
    label,
    kernel.bindings.map((n) => buffers[n]),
  );
}
