// TopK SAE (Gao et al. 2024; SAELens TopKSAE): f keeps the k largest positive pre-activations of each
// token, no sparsity penalty; AuxK reconstructs the residual from the k_aux largest dead features.
import type { TrainConfig } from '../config';
import type { ArchitectureSpec } from './types';

const auxkOn = (c: TrainConfig) => c.aux_k_coefficient > 0 && c.aux_k > 0;

export const topk: ArchitectureSpec = {
  id: 'topk',
  name: 'TopK',
  option: 'TopK (k active)',
  label: (c) => `TopK k=${c.k}`,
  extraParams: [],
  configKeys: ['k', 'aux_k_coefficient', 'aux_k'],
  lossTerms: (c) => (auxkOn(c) ? [{ id: 'aux', coefficient: 'aux_k_coefficient', metric: 'l_aux' }] : []),
  sparsity: null,
  gpu: {
    activation: 'topk',
    auxk: auxkOn,
    // The products with f skip its zeros when at most an eighth of f is non-zero. Measured on
    // SwiftShader (bench/passes.ts, d 64, d_sae 512, 1024 rows, against the dense GEMMs in the same run),
    // the four products took 0.6× the dense time at k 32, 0.9× at k 64 and 1.25× at k 128 (a quarter).
    sparseProducts: (c) => 8 * c.k <= c.d_sae,
  },
  validate: (c) =>
    !Number.isInteger(c.k) || c.k <= 0 || c.k > c.d_sae
      ? [`k must be an integer in 1..d_sae (got ${c.k})`]
      : [],
  initExtra: () => ({}),
  saelens: { architecture: 'topk', cfgFields: (c) => ({ k: c.k }) },
};
