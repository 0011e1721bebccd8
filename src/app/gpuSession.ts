// The page's one GPU device: acquired once, self-tested, and watched for faults. Everything that needs
// the device (trainers, evaluators) asks here; React only sees the plain status in the store.
import { adapterName, requestGpu, WebGpuUnavailableError, type GpuContext } from '../gpu/device';
import { runGpuSelfTest } from '../gpu/selftest';
import { useAppStore } from '../store/appStore';
import { summarizeLimits } from '../store/gpuStatus';

let current: Promise<GpuContext> | null = null;

declare global {
  interface Window {
    /** Read-only hooks for end-to-end tests and curious users (DevTools). */
    __temposae?: Record<string, unknown>;
  }
}

export function exposeForTests(key: string, value: unknown) {
  // Outside a page (the app's modules driven from Node in test/gpu/cli-app-parity.test.ts) there is no window.
  if (typeof window === 'undefined') return;
  window.__temposae = { ...(window.__temposae ?? {}), [key]: value };
}

/** Acquire (or re-acquire after a loss) the device, run the self-test, and publish the status. */
export function initGpu(): Promise<GpuContext> {
  if (current) return current;
  const store = useAppStore.getState();
  current = (async () => {
    try {
      const ctx = await requestGpu(navigator.gpu);
      store.gpuReady(ctx.adapter, summarizeLimits(ctx.limits));
      ctx.onFault((fault) => {
        useAppStore.getState().gpuFaulted(fault);
        if (fault.kind === 'lost') {
          current = null; // the next initGpu() gets a fresh device
          if (fault.reason !== 'destroyed') {
            useAppStore.getState().postMessage({
              level: 'error',
              title: 'The GPU device was lost',
              detail: `${fault.message || 'The browser reset the GPU.'} Training pauses; runs resume from their last checkpoint on a new device.`,
            });
          }
        } else {
          useAppStore.getState().postMessage({
            level: 'error',
            title: `GPU ${fault.errorType} error`,
            detail: fault.message,
          });
        }
      });
      const selfTest = await runGpuSelfTest(ctx.device);
      useAppStore.getState().gpuSelfTested(selfTest);
      exposeForTests('selfTest', selfTest);
      exposeForTests('adapter', { ...ctx.adapter, name: adapterName(ctx.adapter) });
      if (!selfTest.ok) {
        useAppStore.getState().postMessage({
          level: 'error',
          title: 'GPU self-test failed',
          detail: `A 37×29 matrix product differed from the CPU by up to ${selfTest.maxAbsError}. Results on this adapter cannot be trusted; try another browser or update the GPU driver.`,
        });
      }
      return ctx;
    } catch (e) {
      current = null;
      const reason = e instanceof WebGpuUnavailableError ? e.message : `Could not start WebGPU: ${String(e)}`;
      useAppStore.getState().gpuUnavailable(reason);
      throw e;
    }
  })();
  return current;
}

/** The current device if one is ready (for code that must not trigger acquisition). */
export function currentGpu(): Promise<GpuContext> | null {
  return current;
}
