import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/sae/config';
import type { StepMetrics } from '../../src/sae/types';
import { METRIC_KEYS, useRunsStore } from '../../src/store/runsStore';
import { useAppStore } from '../../src/store/appStore';
import { useWorkspaceStore } from '../../src/store/workspaceStore';

const m = (step: number): StepMetrics => ({
  step,
  tokens_seen: step * 2048,
  l_recon: 1 / step,
  l_sparse: 2,
  l_temp: 3,
  l_aux: 0,
  loss: 4,
  alpha: 0.5,
  l_max: 1,
  l0: 10,
  dead_count: 7,
  grad_norm: 0.1,
  lr: 3e-4,
});

beforeEach(() => {
  useRunsStore.setState({ runs: [], selectedRunId: null });
  useAppStore.setState({ messages: [] });
});

describe('runs store', () => {
  const add = (name: string) =>
    useRunsStore.getState().addRun({ name, config: DEFAULT_CONFIG, dataKey: 'd', dataLabel: 'data' });

  it('run ids do not repeat across page loads; a saved run never replaces a run of the page', () => {
    const a = add('a');
    // A new page load starts counting again: its first run must not take the saved run's id.
    const saved = { ...useRunsStore.getState().runs[0], name: 'saved', config: { ...DEFAULT_CONFIG, lr: 1 } };
    useRunsStore.setState({ runs: [], selectedRunId: null });
    const b = add('b');
    expect(b).not.toBe(a);
    useRunsStore.getState().restoreRun(saved);
    expect(useRunsStore.getState().runs.map((r) => r.name)).toEqual(['b', 'saved']);
    // Restoring a record whose id is already in the page leaves the page's run as it is.
    useRunsStore.getState().restoreRun({ ...saved, id: b });
    expect(useRunsStore.getState().runs.find((r) => r.id === b)!.name).toBe('b');
    expect(useRunsStore.getState().runs).toHaveLength(2);
  });

  it('adds runs ready, selected, with the step count of the config', () => {
    const id = add('a');
    const r = useRunsStore.getState().runs[0];
    expect(useRunsStore.getState().selectedRunId).toBe(id);
    expect(r.status).toBe('ready');
    // 2048·2000 tokens at 16 × 128 per step.
    expect(r.progress.totalSteps).toBe(2000);
    expect(r.history.step).toEqual([]);
  });

  it('keeps metric history as columns, one entry per readback, without mutating old state', () => {
    const id = add('a');
    const before = useRunsStore.getState().runs[0].history;
    useRunsStore.getState().appendMetrics(id, m(10));
    useRunsStore.getState().appendMetrics(id, m(20));
    const h = useRunsStore.getState().runs[0].history;
    expect(h.step).toEqual([10, 20]);
    expect(h.l_recon).toEqual([0.1, 0.05]);
    for (const k of METRIC_KEYS) expect(h[k]).toHaveLength(2);
    expect(before.step).toEqual([]); // the old snapshot is untouched (React relies on it)
    // The history is plain JSON (persistence saves it as is).
    expect(JSON.parse(JSON.stringify(useRunsStore.getState().runs[0]))).toEqual(
      useRunsStore.getState().runs[0],
    );
  });

  it('gives each run a colour not in use and reuses a freed one', () => {
    const a = add('a');
    add('b');
    expect(useRunsStore.getState().runs.map((r) => r.colorIndex)).toEqual([0, 1]);
    useRunsStore.getState().removeRun(a);
    add('c');
    expect(useRunsStore.getState().runs.map((r) => r.colorIndex)).toEqual([1, 0]);
  });

  it('removing the selected run selects the last remaining one', () => {
    const a = add('a');
    const b = add('b');
    useRunsStore.getState().removeRun(b);
    expect(useRunsStore.getState().selectedRunId).toBe(a);
    useRunsStore.getState().removeRun(a);
    expect(useRunsStore.getState().selectedRunId).toBeNull();
  });

  it('an error status carries its message; leaving error clears it', () => {
    const id = add('a');
    useRunsStore.getState().setRunStatus(id, 'error', 'out of memory');
    expect(useRunsStore.getState().runs[0].error).toBe('out of memory');
    useRunsStore.getState().setRunStatus(id, 'ready');
    expect(useRunsStore.getState().runs[0].error).toBeNull();
  });
});

describe('app messages', () => {
  it('folds a repeated message into a count instead of stacking it', () => {
    const post = useAppStore.getState().postMessage;
    for (let i = 0; i < 5; i++) post({ level: 'error', title: 'GPU validation error', detail: 'bind group' });
    post({ level: 'warning', title: 'other', detail: 'x' });
    const ms = useAppStore.getState().messages;
    expect(ms).toHaveLength(2);
    expect(ms[0].count).toBe(5);
    expect(ms[1].count).toBe(1);
  });
});

describe('workspace store', () => {
  it('sets one config field without touching the rest', () => {
    const before = useWorkspaceStore.getState().draft;
    useWorkspaceStore.getState().setConfigField('temporal_coefficient', 0.1);
    const after = useWorkspaceStore.getState().draft;
    expect(after).toEqual({ ...before, temporal_coefficient: 0.1 });
  });
  it('a failed load keeps the loaded data and says why', () => {
    const ws = useWorkspaceStore.getState();
    ws.dataLoaded('data-9', {
      label: 'a.npy',
      numSequences: 1,
      seqLen: 1,
      d: 1,
      dtype: 'float32',
      tokens: 1,
      heldOutShare: 0.1,
      scaling: '',
      hasTokenText: false,
      hasGroundTruth: false,
      files: [],
    });
    useWorkspaceStore.getState().dataFailed('b.npy: truncated file');
    const d = useWorkspaceStore.getState().data;
    expect(d.key).toBe('data-9');
    expect(d.summary?.label).toBe('a.npy');
    expect(d.error).toContain('b.npy');
  });
});
