import { useRunsStore } from '../../store/runsStore';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { TrainingCharts } from '../charts/TrainingCharts';
import { ConfigPanel } from './ConfigPanel';
import { Controls } from './Controls';
import { DataPanel } from './DataPanel';
import { ModelPanel } from '../model/ModelPanel';
import { LossFormula } from './LossFormula';
import { RunDetails } from './RunDetails';
import { RunList } from './RunList';
import { StoragePanel } from '../storage/StoragePanel';
import { MethodNotes } from '../analysis/MethodNotes';

function FormulaForDraft() {
  const draft = useWorkspaceStore((s) => s.draft);
  const alpha = useRunsStore((s) => {
    const r = s.runs.find((x) => x.id === s.selectedRunId);
    return r && r.history.alpha.length ? r.history.alpha[r.history.alpha.length - 1] : null;
  });
  return <LossFormula cfg={draft} alpha={alpha} />;
}

/** The first screen: data and knobs on the left, controls and live charts in the middle, runs on the right. */
export function TrainScreen() {
  return (
    <div className="train-screen" data-testid="train-screen">
      <aside className="left-col">
        <DataPanel />
        <ModelPanel />
        <ConfigPanel />
      </aside>
      <div className="center-col">
        <Controls />
        <FormulaForDraft />
        <TrainingCharts />
      </div>
      <aside className="right-col">
        <RunList />
        <RunDetails />
        <MethodNotes />
        <StoragePanel />
      </aside>
    </div>
  );
}
