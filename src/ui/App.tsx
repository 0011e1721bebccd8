import { useAppStore } from '../store/appStore';
import { useWorkspaceStore, type WorkspaceTab } from '../store/workspaceStore';
import { AnalysisArea } from './analysis/AnalysisArea';
import { Messages } from './Messages';
import { NoWebGpu } from './NoWebGpu';
import { StatusBar } from './StatusBar';
import { TrainScreen } from './train/TrainScreen';
import { ShareLink } from './ShareLink';
import { ExperimentPanel } from './experiment/ExperimentPanel';

const TABS: { id: WorkspaceTab; label: string }[] = [
  { id: 'train', label: 'Train' },
  { id: 'features', label: 'Features' },
  { id: 'compare', label: 'Compare' },
  { id: 'experiment', label: 'Experiment' },
];

function Tabs() {
  const tab = useWorkspaceStore((s) => s.tab);
  const open = useWorkspaceStore((s) => s.openTab);
  return (
    <nav className="tabs" role="tablist" aria-label="Views">
      {TABS.map((t) => (
        <button
          key={t.id}
          role="tab"
          aria-selected={tab === t.id}
          className={tab === t.id ? 'active' : ''}
          data-testid={`tab-${t.id}`}
          onClick={() => open(t.id)}
        >
          {t.label}
        </button>
      ))}
    </nav>
  );
}

export function App() {
  const phase = useAppStore((s) => s.gpu.phase);
  const reason = useAppStore((s) => s.gpu.unavailableReason);
  const tab = useWorkspaceStore((s) => s.tab);
  return (
    <div className="app">
      <header className="app-header">
        <span className="logo">TempoSAE</span>
        <span className="tagline">adaptive temporal sparse autoencoders, trained on your GPU</span>
        {phase !== 'unavailable' && <Tabs />}
        {phase !== 'unavailable' && <ShareLink />}
      </header>
      <Messages />
      {phase === 'unavailable' ? (
        <NoWebGpu reason={reason ?? 'WebGPU is unavailable.'} />
      ) : (
        <main className="workspace" data-testid="workspace">
          {phase === 'pending' ? <p className="muted starting">Starting WebGPU…</p> : null}
          {tab === 'train' ? (
            <TrainScreen />
          ) : tab === 'experiment' ? (
            <ExperimentPanel />
          ) : (
            <AnalysisArea tab={tab} />
          )}
        </main>
      )}
      <StatusBar />
    </div>
  );
}
