// Temporal SAE (T-SAE; Bhalla et al. 2025, "Temporal Sparse Autoencoders", arXiv 2511.05541; code
// AI4LIFE-GROUP/temporal-saes, dictionary_learning/trainers/temporal_sequence_top_k.py
// TemporalMatryoshkaBatchTopKTrainer, settings from dictionary_learning/train_temporal.py): a Matryoshka
// BatchTopK SAE (matryoshka.ts) whose first prefix holds the high-level features, 20 % of d_sae
// (group_fractions [0.2, 0.8]), plus a symmetric InfoNCE loss on the high-level codes of adjacent tokens:
//   L = L_mat + λ2·α·L_temp + contrastive_coefficient·L_nce
// L_mat's default weights are the code's group_weights [0.2, 0.8] under its mean over the 2 groups
// (c = 0.1, 0.4); contrastive_coefficient is the code's temp_alpha (0.1). L_nce (src/sae/reference/
// infonce.ts): pairs are the valid adjacent tokens (n−1, n) of one document of one sequence, never across a
// sequence or document start or padding; the other pairs of the batch are the negatives; similarity
// 'cosine' (the paper's text) or 'dot' (the code's, no temperature), over τ = contrastive_temperature.
// Differences from the code (they change numbers, so they are written down): the code pairs a token
// with a random earlier token of its context by default (`--temporal r`) and draws pairs from a shuffled
// buffer of many contexts; here pairs are adjacent, as the paper describes, and come from the run's
// sequence-ordered batch. Kernels: shaders/infonce_*.wgsl (recorded by src/sae/gpu/passes/losses.ts,
// backward.ts).
import { batchtopk } from './batchtopk';
import {
  matryoshka,
  matryoshkaPlanOf,
  prefixEnds,
  validatePrefixes,
  type PrefixDefaults,
} from './matryoshka';
import type { ArchitectureSpec } from './types';

/** The high-level prefix: int(0.2·d_sae) (the code's group_fractions [0.2, 0.8]). */
export const TSAE_DEFAULTS: PrefixDefaults = {
  widths: (m) => [Math.floor(0.2 * m)],
  weights: (G) => (G === 2 ? [0.1, 0.4] : new Array<number>(G).fill(1)),
};

export const tsae: ArchitectureSpec = {
  id: 'tsae',
  name: 'T-SAE',
  option: 'T-SAE (Matryoshka + contrastive)',
  label: (c) => `T-SAE k=${c.k} H=${prefixEnds(c, TSAE_DEFAULTS)[0]}`,
  extraParams: matryoshka.extraParams,
  configKeys: [
    ...matryoshka.configKeys,
    'contrastive_coefficient',
    'contrastive_temperature',
    'contrastive_similarity',
  ],
  lossTerms: (c) => [
    { id: 'matryoshka', metric: 'l_mat' },
    ...(c.contrastive_coefficient > 0
      ? [{ id: 'contrastive', coefficient: 'contrastive_coefficient', metric: 'l_nce' } as const]
      : []),
  ],
  sparsity: null,
  gpu: {
    ...matryoshka.gpu,
    matryoshka: (c) => matryoshkaPlanOf(c, TSAE_DEFAULTS),
    contrastive: (c) =>
      c.contrastive_coefficient > 0
        ? {
            H: prefixEnds(c, TSAE_DEFAULTS)[0],
            coefficient: c.contrastive_coefficient,
            temperature: c.contrastive_temperature,
            cosine: c.contrastive_similarity === 'cosine',
          }
        : null,
  },
  validate: (c) => {
    const p = [...batchtopk.validate(c), ...validatePrefixes(c, TSAE_DEFAULTS)];
    const ends = prefixEnds(c, TSAE_DEFAULTS);
    if (ends.length < 2)
      p.push(
        `T-SAE needs a high-level prefix smaller than d_sae: matryoshka_widths' first width (got ${ends[0]}) must be < ${c.d_sae}`,
      );
    if (!(c.contrastive_temperature > 0) || !Number.isFinite(c.contrastive_temperature))
      p.push(`contrastive_temperature must be a finite number > 0 (got ${c.contrastive_temperature})`);
    if (c.contrastive_similarity !== 'cosine' && c.contrastive_similarity !== 'dot')
      p.push(`contrastive_similarity must be 'cosine' or 'dot' (got '${String(c.contrastive_similarity)}')`);
    return p;
  },
  initExtra: matryoshka.initExtra,
  saelens: matryoshka.saelens,
};
