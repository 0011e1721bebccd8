// Names, meanings and display formats of the held-out metrics (SPEC §6), for tables, selectors and CSV.
import type { EvalMetrics } from '../../analysis/evaluate';

export interface MetricInfo {
  key: keyof EvalMetrics;
  label: string;
  /** What it means and which way is better. */
  help: string;
  group: 'reconstruction' | 'sparsity' | 'temporal' | 'ground truth';
}

export const METRICS: MetricInfo[] = [
  {
    key: 'explained_variance',
    label: 'explained variance',
    help: '1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² (higher is better)',
    group: 'reconstruction',
  },
  { key: 'mse', label: 'mse', help: 'mean squared error per element', group: 'reconstruction' },
  { key: 'cossim', label: 'cossim', help: 'mean cosine of x and x̂ per token', group: 'reconstruction' },
  { key: 'l2_ratio', label: 'l2 ratio', help: 'mean ‖x̂‖ / ‖x‖ (1 is unbiased)', group: 'reconstruction' },
  {
    key: 'relative_reconstruction_bias',
    label: 'rel. recon. bias',
    help: 'E‖x̂‖² / E[x̂·x] (1 is unbiased)',
    group: 'reconstruction',
  },
  { key: 'l0', label: 'L0', help: 'active features per token', group: 'sparsity' },
  { key: 'l1', label: 'L1', help: 'mean ‖f‖₁ per token', group: 'sparsity' },
  {
    key: 'dead_count',
    label: 'dead',
    help: 'features that never fired on the held-out set',
    group: 'sparsity',
  },
  {
    key: 'dense_count',
    label: 'dense',
    help: 'features firing on more than 10 % of tokens',
    group: 'sparsity',
  },
  { key: 'dead_share', label: 'dead share', help: 'dead / d_sae', group: 'sparsity' },
  {
    key: 'tv_ratio',
    label: 'tv ratio',
    help: 'Σ‖f_t − f_{t−1}‖₁ / Σ‖f_t‖₁ over adjacent pairs (lower is more stable)',
    group: 'temporal',
  },
  {
    key: 'jaccard',
    label: 'jaccard',
    help: 'overlap of adjacent active sets (higher is more stable)',
    group: 'temporal',
  },
  {
    key: 'autocorr',
    label: 'autocorr',
    help: 'lag-1 autocorrelation, mean over alive features',
    group: 'temporal',
  },
  {
    key: 'mean_run_length',
    label: 'run length',
    help: 'mean length of consecutive active stretches',
    group: 'temporal',
  },
  {
    key: 'flip_rate',
    label: 'flip rate',
    help: 'share of alive features switching on/off per step (lower is more stable)',
    group: 'temporal',
  },
  {
    key: 'act_smoothness',
    label: 'act. smoothness',
    help: 'T-SAE: max over t of |Δf_i| / ‖Δx‖, mean over active features and sequences (lower is smoother; SPEC §11)',
    group: 'temporal',
  },
  {
    key: 'fft_hf_ratio',
    label: 'HF/LF energy',
    help: 'T-SAE: high- over low-frequency energy of active feature traces, FFT cutoff 0.5 (lower is smoother)',
    group: 'temporal',
  },
  {
    key: 'sequence_l0',
    label: 'sequence L0',
    help: 'T-SAE: distinct features active in a sequence (fewer for the same L0 is more persistent)',
    group: 'sparsity',
  },
  {
    key: 'mmcs',
    label: 'mmcs',
    help: 'mean over true features of the best decoder cosine (synthetic data)',
    group: 'ground truth',
  },
  {
    key: 'recovered',
    label: 'recovered',
    help: 'share of true features with best cosine > 0.9',
    group: 'ground truth',
  },
];

export function formatMetric(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4);
}
