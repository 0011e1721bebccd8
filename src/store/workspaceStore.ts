// What the researcher is setting up before pressing Start: the draft config, the chosen data and what
// was loaded, and which tab is open. Plain data; the loaded ActivationSource itself lives outside the
// store (src/app/dataSession.ts) under `data.key`.
import { create } from 'zustand';
import { DEFAULT_CONFIG, type TrainConfig } from '../sae/config';

/** Where the activations come from: a built-in synthetic preset, or files the user dropped. */
export type DataChoice = { kind: 'builtin'; preset: string } | { kind: 'files'; label: string };

export interface DataSummary {
  /** Shown in the run list and error messages. */
  label: string;
  numSequences: number;
  seqLen: number;
  d: number;
  dtype: string;
  tokens: number;
  /** Share of sequences held out for evaluation (never trained on). */
  heldOutShare: number;
  /** Input scaling in words (SAELens normalize_activations). */
  scaling: string;
  hasTokenText: boolean;
  /** Where the token text comes from (a tokenizer file's name), when there is one. */
  tokenTextName?: string;
  /** Synthetic data with known true features (ground-truth metrics available). */
  hasGroundTruth: boolean;
  files: string[];
}

export interface DataLoadProgress {
  name: string;
  loadedBytes: number;
  totalBytes: number;
}

export type WorkspaceTab = 'train' | 'features' | 'compare' | 'experiment';

export interface WorkspaceState {
  draft: TrainConfig;
  data: {
    choice: DataChoice;
    /** Key under which src/app/dataSession.ts keeps the loaded source; null until loaded. */
    key: string | null;
    summary: DataSummary | null;
    progress: DataLoadProgress | null;
    /** Why loading failed, in words (the previous data stays loaded). */
    error: string | null;
  };
  tab: WorkspaceTab;
  setConfigField<K extends keyof TrainConfig>(key: K, value: TrainConfig[K]): void;
  replaceDraft(cfg: TrainConfig): void;
  chooseData(choice: DataChoice): void;
  dataLoading(p: DataLoadProgress | null): void;
  dataLoaded(key: string, summary: DataSummary): void;
  dataFailed(error: string): void;
  openTab(tab: WorkspaceTab): void;
}

export const useWorkspaceStore = create<WorkspaceState>()((set) => ({
  draft: DEFAULT_CONFIG,
  data: {
    choice: { kind: 'builtin', preset: 'default' },
    key: null,
    summary: null,
    progress: null,
    error: null,
  },
  tab: 'train',
  setConfigField: (key, value) => set((s) => ({ draft: { ...s.draft, [key]: value } })),
  replaceDraft: (cfg) => set({ draft: cfg }),
  chooseData: (choice) => set((s) => ({ data: { ...s.data, choice, error: null } })),
  dataLoading: (progress) => set((s) => ({ data: { ...s.data, progress } })),
  dataLoaded: (key, summary) =>
    set((s) => ({ data: { ...s.data, key, summary, progress: null, error: null } })),
  dataFailed: (error) => set((s) => ({ data: { ...s.data, progress: null, error } })),
  openTab: (tab) => set({ tab }),
}));
