// Mount point of the analysis views (issue 6): the Features tab (clustering, sparsity, position,
// density, history, inspector of the selected run) and the Compare tab (table, frontier, matching,
// sweeps). The shell (src/ui/App.tsx) renders this for both tabs.
import type { WorkspaceTab } from '../../store/workspaceStore';
import { CompareView } from './CompareView';
import { FeaturesView } from './FeaturesView';
import './analysis.css';

export function AnalysisArea({ tab }: { tab: Exclude<WorkspaceTab, 'train'> }) {
  return tab === 'features' ? <FeaturesView /> : <CompareView />;
}
