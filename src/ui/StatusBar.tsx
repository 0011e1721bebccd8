import { adapterName } from '../gpu/device';
import { useAppStore } from '../store/appStore';
import { useEngineStatus } from '../app/engineClient';
import { formatBytes } from './format';

/** Bottom bar: which adapter we run on, its key limits, and whether the kernel self-test passed. */
export function StatusBar() {
  const gpu = useAppStore((s) => s.gpu);
  const engine = useEngineStatus();
  return (
    <footer className="status-bar" role="status" aria-live="polite">
      <span data-testid="gpu-phase" className={`pill pill-${gpu.phase}`}>
        GPU {gpu.phase}
      </span>
      {gpu.adapter && (
        <span data-testid="adapter-name" title={JSON.stringify(gpu.adapter)}>
          {adapterName(gpu.adapter)}
        </span>
      )}
      {gpu.limits && (
        <span data-testid="adapter-limits">
          storage binding {formatBytes(gpu.limits.maxStorageBufferBindingSize)} · buffer{' '}
          {formatBytes(gpu.limits.maxBufferSize)} · workgroup memory{' '}
          {formatBytes(gpu.limits.maxComputeWorkgroupStorageSize)} ·{' '}
          {gpu.limits.maxStorageBuffersPerShaderStage} storage buffers/stage
        </span>
      )}
      {engine.kind && (
        <span data-testid="engine-kind" title={engine.note ?? undefined}>
          training {engine.kind === 'worker' ? 'in a worker' : 'on the page'}
          {engine.adapter ? ` · ${engine.adapter}` : ''}
        </span>
      )}
      {gpu.selfTest && (
        <span data-testid="selftest" className={gpu.selfTest.ok ? 'ok' : 'bad'}>
          kernel self-test {gpu.selfTest.ok ? 'passed' : `FAILED (max error ${gpu.selfTest.maxAbsError})`} in{' '}
          {gpu.selfTest.ms.toFixed(0)} ms
        </span>
      )}
    </footer>
  );
}
