// Acquiring a WebGPU device with the adapter's own limits, and the one path by which GPU faults
// (device loss, uncaptured validation/out-of-memory errors) reach the rest of the app.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for SwiftShader (CPU emulation): kernels pick designs that suit it, tests keep shapes small. */
  isSwiftShader: boolean;
}

export type GpuFault =
  | { kind: 'lost'; reason: string; message: string }
  | { kind: 'error'; errorType: 'validation' | 'out-of-memory' | 'internal' | 'unknown'; message: string };

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** The limits the device was created with (the adapter's maxima, not WebGPU's defaults). */
  limits: GPUSupportedLimits;
  features: ReadonlySet<string>;
  /** Subscribe to faults; returns an unsubscribe function. */
  onFault(listener: (fault: GpuFault) => void): () => void;
  /** Faults seen so far (kept so a listener that subscribes late still learns of them). */
  readonly faults: readonly GpuFault[];
}

export class WebGpuUnavailableError extends Error {
  constructor(
    message: string,
    readonly reason: 'no-api' | 'no-adapter' | 'device-failed',
  ) {
    super(message);
    this.name = 'WebGpuUnavailableError';
  }
}

/** Limit names copied from the adapter into requiredLimits. Unknown names are skipped by the loop. */
function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  // GPUSupportedLimits exposes its values as prototype getters, so enumerate the prototype.
  const proto = Object.getPrototypeOf(adapter.limits) as object;
  for (const key of Object.getOwnPropertyNames(proto)) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];

export function summarizeAdapter(info: GPUAdapterInfo | undefined): AdapterSummary {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  return { vendor, architecture, device, description, isSwiftShader: text.includes('swiftshader') };
}

export function adapterName(a: AdapterSummary): string {
  if (a.isSwiftShader) return 'SwiftShader (CPU emulation)';
  return a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unknown adapter';
}

/**
 * Request a high-performance adapter and a device with that adapter's maximum limits.
 * `gpu` is `navigator.gpu` in the browser or Dawn's GPU object in Node.
 */
export async function requestGpu(gpu: GPU | undefined, label = 'TempoSAE'): Promise<GpuContext> {
  if (!gpu) {
    throw new WebGpuUnavailableError(
      'This browser does not expose WebGPU (navigator.gpu is missing).',
      'no-api',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new WebGpuUnavailableError('WebGPU is present but no GPU adapter is available.', 'no-adapter');
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label,
      requiredLimits: adapterLimits(adapter),
      requiredFeatures,
    });
  } catch (e) {
    throw new WebGpuUnavailableError(
      `The GPU adapter refused to create a device: ${String(e)}`,
      'device-failed',
    );
  }

  const listeners = new Set<(f: GpuFault) => void>();
  const faults: GpuFault[] = [];
  const emit = (f: GpuFault) => {
    faults.push(f);
    for (const l of listeners) l(f);
  };
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    const errorType =
      err instanceof GPUValidationError
        ? 'validation'
        : err instanceof GPUOutOfMemoryError
          ? 'out-of-memory'
          : typeof GPUInternalError !== 'undefined' && err instanceof GPUInternalError
            ? 'internal'
            : 'unknown';
    emit({ kind: 'error', errorType, message: err.message });
  });
  void device.lost.then((info) => emit({ kind: 'lost', reason: info.reason, message: info.message }));

  return {
    device,
    adapter: summarizeAdapter(adapter.info),
    limits: device.limits,
    features: new Set([...device.features].map(String)),
    onFault(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get faults() {
      return faults;
    },
  };
}
