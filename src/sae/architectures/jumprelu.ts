// JumpReLU SAE (Rajamanoharan et al. 2024, "Jumping Ahead"; SAELens JumpReLUSAE): f = pre·H(pre − θ) with
// a learned threshold θ = exp(log_threshold) per feature, L_sparse = mean L0 trained through the
// straight-through estimator with bandwidth ε (jumprelu_bandwidth).
import type { ArchitectureSpec } from './types';

export const jumprelu: ArchitectureSpec = {
  id: 'jumprelu',
  name: 'JumpReLU',
  option: 'JumpReLU (learned θ)',
  label: () => 'JumpReLU',
  extraParams: ['log_threshold'],
  configKeys: ['l1_coefficient', 'jumprelu_init_threshold', 'jumprelu_bandwidth'],
  lossTerms: () => [{ id: 'sparse', kind: 'L0', coefficient: 'l1_coefficient', metric: 'l_sparse' }],
  sparsity: 'L0',
  gpu: { activation: 'elementwise', auxk: () => false, sparseProducts: () => false },
  validate: () => [],
  initExtra: (c) => ({ log_threshold: Math.log(c.jumprelu_init_threshold) }),
  saelens: { architecture: 'jumprelu', cfgFields: () => ({}) },
};
