// Which data a saved run was trained on, in a form that survives a reload (data keys do not): the
// built-in preset, or the label and shape of the user's files (files cannot be reopened without the
// user, so resuming asks for them by name).
import { SYNTHETIC_PRESETS, syntheticConfig, type SyntheticPreset } from '../../data/synthetic';
import { BUILTIN_DATA_SEED, getLoadedData, loadBuiltin, loadedDataKeys } from '../dataSession';
import { useWorkspaceStore } from '../../store/workspaceStore';

export type DataRef =
  | { kind: 'builtin'; preset: string }
  | { kind: 'files'; label: string; d: number; numSequences: number; seqLen: number };

/** The reference of loaded data (null when the key is not loaded). */
export function dataRefOf(dataKey: string): DataRef | null {
  const data = getLoadedData(dataKey);
  if (!data) return null;
  const cfg = (data.source as { config?: unknown }).config;
  if (cfg)
    for (const preset of Object.keys(SYNTHETIC_PRESETS))
      if (
        JSON.stringify(syntheticConfig(preset as SyntheticPreset, BUILTIN_DATA_SEED)) === JSON.stringify(cfg)
      )
        return { kind: 'builtin', preset };
  const s = data.source;
  return { kind: 'files', label: s.name, d: s.d, numSequences: s.numSequences, seqLen: s.seqLen };
}

/** A loaded data key for `ref`: the one already loaded, or (built-in data) loaded now. */
export function ensureDataLoaded(ref: DataRef | null, runName: string): string {
  const current = useWorkspaceStore.getState().data.key;
  const candidates = [...(current ? [current] : []), ...loadedDataKeys()];
  if (!ref)
    throw new Error(`The saved run “${runName}” does not say which data it used; reset it to train again.`);
  for (const key of candidates) {
    const r = dataRefOf(key);
    if (r && JSON.stringify(r) === JSON.stringify(ref)) return key;
  }
  if (ref.kind === 'builtin') return loadBuiltin(ref.preset).key;
  throw new Error(
    `Run “${runName}” was trained on your files “${ref.label}” (${ref.numSequences} sequences × ${ref.seqLen} × ${ref.d}). ` +
      'Drop the same files again, then resume: the run continues from its last checkpoint.',
  );
}
