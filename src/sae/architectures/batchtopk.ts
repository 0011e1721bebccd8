// BatchTopK SAE (Bussmann et al. 2024, "BatchTopK Sparse Autoencoders"; SAELens BatchTopKTrainingSAE):
// in training f keeps the k·N largest positive pre-activations over the WHOLE batch (N valid tokens), so
// k is the mean number of active features per token; no sparsity penalty. Every step also moves one
// inference threshold θ toward the smallest active value of the step's f (topk_threshold_lr; SAELens
// update_topk_threshold), and outside training f = pre·H(pre − θ): a JumpReLU with the same θ for every
// feature, which is how SAELens saves a BatchTopK SAE (architecture 'jumprelu', threshold = θ·1).
// θ is trainer state (STATE.topk_threshold in src/sae/gpu/layout.ts), not a trained parameter.
// Kernels: shaders/batchtopk_*.wgsl, recorded by src/sae/gpu/passes/activation.ts (any architecture
// with `gpu.activation: 'batchtopk'` gets the same selection and θ). Float64 reference:
// src/sae/reference/batchTopk.ts, methods.ts.
// Not here (written down so a comparison is not silently different): SAELens's BatchTopK inherits
// TopK's AuxK loss; the float64 reference of the temporal-SAE methods has none, so neither has this.
import type { ArchitectureSpec } from './types';

export const batchtopk: ArchitectureSpec = {
  id: 'batchtopk',
  name: 'BatchTopK',
  option: 'BatchTopK (k·N over the batch)',
  label: (c) => `BatchTopK k=${c.k}`,
  extraParams: [],
  configKeys: ['k', 'topk_threshold_lr'],
  lossTerms: () => [],
  sparsity: null,
  gpu: {
    activation: 'batchtopk',
    auxk: () => false,
    // As TopK (topk.ts): the zero-skipping products pay off at ≤ 1/8 of f non-zero; BatchTopK has k·N
    // non-zeros in the batch, so the same bound holds on average.
    sparseProducts: (c) => 8 * c.k <= c.d_sae,
  },
  validate: (c) =>
    !Number.isInteger(c.k) || c.k <= 0 || c.k > c.d_sae
      ? [`k must be an integer in 1..d_sae (got ${c.k})`]
      : [],
  initExtra: () => ({}),
  // Saved for inference as SAELens does (BatchTopKTrainingSAE.process_state_dict_for_saving_inference).
  saelens: { architecture: 'jumprelu', cfgFields: () => ({}) },
};
