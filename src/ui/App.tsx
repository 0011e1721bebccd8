import { useAppStore } from '../store/appStore';
import { Messages } from './Messages';
import { NoWebGpu } from './NoWebGpu';
import { StatusBar } from './StatusBar';

export function App() {
  const phase = useAppStore((s) => s.gpu.phase);
  const reason = useAppStore((s) => s.gpu.unavailableReason);
  return (
    <div className="app">
      <header className="app-header">
        <span className="logo">TempoSAE</span>
        <span className="tagline">adaptive temporal sparse autoencoders, trained on your GPU</span>
      </header>
      <Messages />
      {phase === 'unavailable' ? (
        <NoWebGpu reason={reason ?? 'WebGPU is unavailable.'} />
      ) : (
        <main className="workspace" data-testid="workspace">
          {phase === 'pending' ? <p className="muted">Starting WebGPU…</p> : null}
        </main>
      )}
      <StatusBar />
    </div>
  );
}
