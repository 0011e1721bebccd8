// ReLU SAE with an L1 penalty (SPEC §3–4; SAELens StandardSAE): f = max(pre, 0), L_sparse = mean Σ|f|.
import type { ArchitectureSpec } from './types';

export const relu: ArchitectureSpec = {
  id: 'relu',
  name: 'ReLU',
  option: 'ReLU (L1 penalty)',
  label: () => 'ReLU',
  extraParams: [],
  configKeys: ['l1_coefficient'],
  lossTerms: () => [{ id: 'sparse', kind: 'L1', coefficient: 'l1_coefficient', metric: 'l_sparse' }],
  sparsity: 'L1',
  gpu: { activation: 'elementwise', auxk: () => false, sparseProducts: () => false },
  validate: () => [],
  initExtra: () => ({}),
  saelens: { architecture: 'standard', cfgFields: () => ({}) },
};
