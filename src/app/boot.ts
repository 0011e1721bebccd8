// Startup of the training screen: the link's config (if any), the data it names (the built-in
// dataset otherwise), the run engine (in its Worker; on the page where a worker has no GPU adapter), and
// the URL kept in step from then on.
import { useAppStore } from '../store/appStore';
import { dataDescriptor, getLoadedData, loadBuiltin } from './dataSession';
import { workerEngine } from './engineClient';
import { createBrowserBackend } from './trainingBackend';
import { setEngine } from './trainingLoop';
import { applyUrlConfig, syncUrlWithDraft } from './urlSync';
import { exposeForTests } from './gpuSession';
import { installPersistence } from './persistence/persistence';
import { installEvaluation } from './evaluation';
import { installExperiments } from './experimentSession';
import { useRunsStore } from '../store/runsStore';
import { useWorkspaceStore } from '../store/workspaceStore';

/** The engine in its Worker, with the page's answers: how to open a dataset, page-made data, faults. */
function startEngine(): void {
  const engine = workerEngine(() => createBrowserBackend());
  engine.describeData = dataDescriptor;
  engine.handle('read', async ({ dataKey, indices, windows, length }) => {
    const src = getLoadedData(dataKey)?.source;
    if (!src) throw new Error('The data this run was made with is no longer loaded; load it again.');
    if (windows && length !== undefined && src.readWindows) return src.readWindows(windows, length);
    return src.readSequences(indices ?? []);
  });
  engine.onDeviceFault((status, reason, message) => {
    // The page's own device reports its faults itself (gpuSession); these are the worker's.
    if (engine.kind !== 'worker') return;
    if (status === 'lost' && reason !== 'destroyed')
      useAppStore.getState().postMessage({
        level: 'error',
        title: 'The engine’s GPU device was lost',
        detail: `${message || 'The browser reset the GPU.'} Training pauses; runs resume from their last checkpoint on a new device.`,
      });
    else if (status === 'error')
      useAppStore
        .getState()
        .postMessage({ level: 'error', title: `GPU ${reason} error (engine)`, detail: message });
  });
  setEngine(engine);
  exposeForTests('engine', () => ({ kind: engine.kind, files: engine.files }));
}

export function bootTrainingScreen(): void {
  startEngine();
  installEvaluation();
  const link = applyUrlConfig(location.search);
  const linkData = link.data;
  // The fields the link sets win over what the data implies (but the width); the fields it leaves out
  // keep the data's settings (a hand-written `?d_sae=256` keeps the built-in data's λ1 and lr). A link
  // the app wrote sets every field, so it reproduces its config exactly.
  try {
    const preset = linkData?.kind === 'builtin' ? linkData.preset : 'default';
    const loaded = loadBuiltin(preset);
    if (link.hasConfig) {
      const implied = useWorkspaceStore.getState().draft;
      useWorkspaceStore.getState().replaceDraft({ ...implied, ...link.given, d_in: loaded.source.d });
    }
    if (linkData?.kind === 'files') {
      useAppStore.getState().postMessage({
        level: 'info',
        title: 'This link was made with the sender’s own files',
        detail:
          'Files cannot travel in a link: drop the same activation files to reproduce the run. The built-in data is loaded meanwhile.',
      });
    }
  } catch {
    loadBuiltin('default');
  }
  syncUrlWithDraft();
  // Saved runs come back (after the data above is loaded, so built-in runs find it) and are kept saved.
  void installPersistence().catch((e) =>
    useAppStore
      .getState()
      .postMessage({ level: 'warning', title: 'Runs will not be saved', detail: String(e) }),
  );
  // The experiment of the Experiment tab comes back (interrupted, if it was running).
  installExperiments();
  // Read-only views for end-to-end tests and DevTools.
  exposeForTests('runs', () => useRunsStore.getState().runs);
  exposeForTests('selectedRunId', () => useRunsStore.getState().selectedRunId);
  exposeForTests('workspace', () => useWorkspaceStore.getState());
}
