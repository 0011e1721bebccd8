// Mount point of the analysis views (owned by H6: src/ui/analysis/**). The shell renders this
// component for the Features and Compare tabs; replace the body freely.
import type { WorkspaceTab } from '../../store/workspaceStore';

export function AnalysisArea({ tab }: { tab: Exclude<WorkspaceTab, 'train'> }) {
  return (
    <section className="panel analysis-placeholder" data-testid={`analysis-${tab}`}>
      <h2>{tab === 'features' ? 'Features' : 'Compare'}</h2>
      <p className="muted">
        {tab === 'features'
          ? 'Temporal clustering, sparsity and position views and the feature inspector appear here after an evaluation.'
          : 'Metrics of several runs side by side, the L0–explained-variance frontier and cross-run feature matching.'}
      </p>
    </section>
  );
}
