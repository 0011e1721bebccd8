// What the buttons of the training screen do, in one place: they combine the draft config, the loaded
// data and the selected run into calls of the loop's verbs. Components stay thin.
import { validateConfig, type TrainConfig } from '../sae/config';
import { findRun, useRunsStore, type RunRecord } from '../store/runsStore';
import { useWorkspaceStore } from '../store/workspaceStore';
import { getLoadedData, HELD_OUT_FRACTION } from './dataSession';
import {
  createRun,
  makeControlRun,
  pauseRun,
  resetRun,
  resumeRun,
  startRun,
  stepRun,
  stopRun,
} from './trainingLoop';

export type PrimaryAction = 'start' | 'new' | 'pause' | 'resume' | 'wait';

function sameConfig(a: TrainConfig, b: TrainConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The selected run, if it was made with the draft config and the loaded data (so a verb applies to it). */
export function matchingSelectedRun(): RunRecord | undefined {
  const { selectedRunId } = useRunsStore.getState();
  const run = selectedRunId ? findRun(selectedRunId) : undefined;
  const ws = useWorkspaceStore.getState();
  if (!run) return undefined;
  if (run.status === 'ready') return run.dataKey === ws.data.key ? run : undefined;
  return run;
}

/** What the main button does now. */
export function primaryActionFor(
  run: RunRecord | undefined,
  draft: TrainConfig,
  dataKey: string | null,
): PrimaryAction {
  if (!run) return 'new';
  switch (run.status) {
    case 'running':
      return 'pause';
    case 'starting':
      return 'wait';
    case 'paused':
      return sameConfig(run.config, draft) ? 'resume' : 'new';
    case 'ready':
      return run.dataKey === dataKey ? 'start' : 'new';
    default:
      return 'new';
  }
}

/** Config and data that do not fit together, in words (caught here rather than when the run starts). */
export function dataMismatch(
  cfg: TrainConfig,
  source: { seqLen: number; numSequences: number; d: number },
): string | null {
  if (cfg.context_size > source.seqLen)
    return `The sequence length ${cfg.context_size} is longer than the data's sequences (${source.seqLen} tokens); set it to ${source.seqLen} or less.`;
  // The batcher holds out HELD_OUT_FRACTION of the sequences; each sequence gives ⌊seqLen/T⌋ windows.
  const windows =
    Math.floor(source.numSequences * (1 - HELD_OUT_FRACTION)) * Math.floor(source.seqLen / cfg.context_size);
  if (cfg.seqs_per_batch > windows)
    return `A batch of ${cfg.seqs_per_batch} sequences needs more than the ${windows} training sequences of ${cfg.context_size} tokens in this data; use fewer sequences per batch.`;
  return null;
}

/** Why a new run cannot be made from the draft, in words; null when it can. */
export function cannotStartReason(): string | null {
  const ws = useWorkspaceStore.getState();
  if (!ws.data.key || !getLoadedData(ws.data.key)) return 'Load data first (built-in or your files).';
  const problems = validateConfig(ws.draft);
  if (problems.length) return `Fix the config first: ${problems[0]}.`;
  return dataMismatch(ws.draft, getLoadedData(ws.data.key)!.source);
}

/** A new run from the draft config and the loaded data (not started). */
export function newRunFromDraft(): string | null {
  const ws = useWorkspaceStore.getState();
  if (cannotStartReason()) return null;
  const data = getLoadedData(ws.data.key!)!;
  // The width always comes from the data (a run selected earlier may have been on other data).
  const config = { ...ws.draft, d_in: data.source.d };
  return createRun({ config, dataKey: data.key, dataLabel: data.summary.label });
}

/** Start / pause / resume the selected run, or make a new one from the draft and start it. */
export async function pressPrimary(): Promise<void> {
  const ws = useWorkspaceStore.getState();
  const run = matchingSelectedRun();
  const action = primaryActionFor(run, ws.draft, ws.data.key);
  if (action === 'pause') return pauseRun(run!.id);
  if (action === 'resume') return resumeRun(run!.id);
  if (action === 'wait') return;
  if (action === 'start' && run && sameConfig(run.config, ws.draft)) return startRun(run.id);
  const id = newRunFromDraft();
  if (id) await startRun(id);
}

/** One step of the selected run (paused or ready), or of a new run from the draft. */
export async function pressStep(): Promise<void> {
  const run = matchingSelectedRun();
  if (run && (run.status === 'paused' || run.status === 'ready')) return stepRun(run.id);
  if (run && (run.status === 'running' || run.status === 'starting')) return;
  const id = newRunFromDraft();
  if (id) await stepRun(id);
}

export async function pressReset(): Promise<void> {
  const id = useRunsStore.getState().selectedRunId;
  if (id) await resetRun(id);
}

export async function pressStop(): Promise<void> {
  const id = useRunsStore.getState().selectedRunId;
  if (id) await stopRun(id);
}

/** Select a run and show its config in the panel (and so in the URL). */
export function selectRunAndShowConfig(id: string): void {
  const run = findRun(id);
  if (!run) return;
  useRunsStore.getState().selectRun(id);
  useWorkspaceStore.getState().replaceDraft(run.config);
}

export function pressControl(id: string): string {
  const ctl = makeControlRun(id);
  selectRunAndShowConfig(ctl);
  return ctl;
}
