// The config panel's fields: label, kind, a one-line explanation, and when the field applies. The
// explanations say what the knob does in the method (SPEC §3–5), in a researcher's words.
import { ARCHITECTURE_IDS, ARCHITECTURES, architectureOf } from '../../sae/architectures';
import type { TrainConfig } from '../../sae/config';

export type FieldKind =
  | { type: 'int'; min?: number; max?: number }
  | { type: 'float'; min?: number; max?: number; exclusiveMax?: boolean }
  | { type: 'select'; options: { value: string; label: string }[] }
  | { type: 'intList' }
  /** Comma-separated numbers (whole numbers ≥ 1 with `integer`); empty is an empty list. */
  | { type: 'numberList'; integer?: boolean };

export interface FieldSpec {
  key: keyof TrainConfig;
  /** Short label; symbols as in the paper (λ1, λ2, β, μ). */
  label: string;
  kind: FieldKind;
  help: string;
  /** The field only matters for some configs (e.g. k for TopK). */
  applies?: (c: TrainConfig) => boolean;
}

export interface FieldGroup {
  title: string;
  fields: FieldSpec[];
  /** Collapsed by default: rarely changed knobs. */
  advanced?: boolean;
}

/** The field is one the config's architecture reads (its `configKeys`, src/sae/architectures/). */
const archReads = (key: keyof TrainConfig) => (c: TrainConfig) => architectureOf(c).configKeys.includes(key);

export const FIELD_GROUPS: FieldGroup[] = [
  {
    title: 'Model',
    fields: [
      {
        key: 'architecture',
        label: 'architecture',
        kind: {
          type: 'select',
          options: ARCHITECTURE_IDS.map((id) => ({ value: id, label: ARCHITECTURES[id].option })),
        },
        help: 'How features switch on: ReLU with an L1 penalty, the k largest per token, a learned threshold per feature, or the k·N largest over the batch (BatchTopK; Matryoshka adds nested prefixes that each reconstruct x; T-SAE adds a contrastive loss on adjacent tokens’ high-level features).',
      },
      {
        key: 'd_sae',
        label: 'd_sae',
        kind: { type: 'int', min: 1 },
        help: 'Dictionary size m: how many features the SAE can learn (d_in is set by the data).',
      },
      {
        key: 'k',
        label: 'k',
        kind: { type: 'int', min: 1 },
        help: 'TopK: features kept active per token; BatchTopK: active per token on average (k·N over the batch).',
        applies: archReads('k'),
      },
      {
        key: 'topk_threshold_lr',
        label: 'θ rate',
        kind: { type: 'float', min: 0, max: 1 },
        help: 'BatchTopK: rate of the moving average that sets the inference threshold θ from each step (SAELens topk_threshold_lr).',
        applies: archReads('topk_threshold_lr'),
      },
      {
        key: 'matryoshka_widths',
        label: 'prefix widths',
        kind: { type: 'numberList', integer: true },
        help: 'Matryoshka: ends of the nested prefixes, each trained to reconstruct x alone (d_sae is added last). Empty: d_sae/8, /4, /2 (T-SAE: 20 % of d_sae, its high-level features).',
        applies: archReads('matryoshka_widths'),
      },
      {
        key: 'matryoshka_weights',
        label: 'prefix weights',
        kind: { type: 'numberList' },
        help: 'Matryoshka: weight of each prefix’s reconstruction loss, one per prefix. Empty: 1 each (SAELens); T-SAE 0.1, 0.4 (its code’s 0.2, 0.8 averaged).',
        applies: archReads('matryoshka_weights'),
      },
      {
        key: 'jumprelu_init_threshold',
        label: 'θ₀',
        kind: { type: 'float', min: 0 },
        help: 'JumpReLU: initial threshold of every feature.',
        applies: archReads('jumprelu_init_threshold'),
      },
      {
        key: 'jumprelu_bandwidth',
        label: 'ε',
        kind: { type: 'float', min: 0 },
        help: 'JumpReLU: bandwidth of the straight-through estimator of the threshold gradient.',
        applies: archReads('jumprelu_bandwidth'),
      },
    ],
  },
  {
    title: 'Loss',
    fields: [
      {
        key: 'l1_coefficient',
        label: 'λ1 sparsity',
        kind: { type: 'float', min: 0 },
        help: 'Weight of the sparsity term (L1 of f for ReLU, L0 surrogate for JumpReLU; TopK ignores it).',
        applies: archReads('l1_coefficient'),
      },
      {
        key: 'temporal_coefficient',
        label: 'λ2 temporal',
        kind: { type: 'float', min: 0 },
        help: 'Weight of the change of f between adjacent tokens of one sequence. 0 gives a plain SAE.',
      },
      {
        key: 'alpha_beta',
        label: 'β sharpness',
        kind: { type: 'float', min: 0 },
        help: 'How sharply α = σ(β·(L_max − L_recon)) switches the temporal term on as reconstruction improves.',
      },
      {
        key: 'lmax_momentum',
        label: 'μ momentum',
        kind: { type: 'float', min: 0, max: 1, exclusiveMax: true },
        help: 'Momentum of L_max: how fast the moving maximum decays toward the current loss.',
      },
      {
        key: 'lmax_mode',
        label: 'L_max',
        kind: {
          type: 'select',
          options: [
            { value: 'max', label: 'decaying maximum (method)' },
            { value: 'ema', label: 'moving average' },
          ],
        },
        help: 'The method uses max(L_recon, μ·L_max + (1−μ)·L_recon); the average is the published attempt’s variant.',
      },
      {
        key: 'alpha_mode',
        label: 'α gap',
        kind: {
          type: 'select',
          options: [
            { value: 'absolute', label: 'absolute (method)' },
            { value: 'relative', label: 'relative to L_max' },
          ],
        },
        help: 'Relative divides the gap by L_max, so α does not saturate when losses are large.',
      },
      {
        key: 'seq_start_mode',
        label: 'sequence start',
        kind: {
          type: 'select',
          options: [
            { value: 'zero', label: 'compare with f = 0 (method)' },
            { value: 'skip', label: 'skip the first pair' },
          ],
        },
        help: 'What the first token of a sequence or document is compared with in the temporal term.',
      },
      {
        key: 'recon_loss',
        label: 'reconstruction',
        kind: {
          type: 'select',
          options: [
            { value: 'squared', label: '‖x − x̂‖² (default)' },
            { value: 'norm', label: '‖x − x̂‖ (published attempt)' },
          ],
        },
        help: 'Per-token reconstruction error, averaged over tokens.',
      },
      {
        key: 'aux_k_coefficient',
        label: 'AuxK coef.',
        kind: { type: 'float', min: 0 },
        help: 'TopK: weight of the auxiliary loss that revives dead features (Gao et al. 2024); 0 turns it off.',
        applies: archReads('aux_k_coefficient'),
      },
      {
        key: 'aux_k',
        label: 'AuxK k',
        kind: { type: 'int', min: 1 },
        help: 'TopK: dead features the auxiliary loss may use per token.',
        applies: archReads('aux_k'),
      },
      {
        key: 'contrastive_coefficient',
        label: 'contrastive coef.',
        kind: { type: 'float', min: 0 },
        help: 'T-SAE: weight of the InfoNCE loss that pulls adjacent tokens’ high-level codes together (the paper’s 0.1); 0 turns it off.',
        applies: archReads('contrastive_coefficient'),
      },
      {
        key: 'contrastive_temperature',
        label: 'contrastive τ',
        kind: { type: 'float', min: 0 },
        help: 'T-SAE: temperature of the InfoNCE logits similarity/τ (the paper’s code: 1).',
        applies: archReads('contrastive_temperature'),
      },
      {
        key: 'contrastive_similarity',
        label: 'contrastive similarity',
        kind: {
          type: 'select',
          options: [
            { value: 'cosine', label: 'cosine (paper)' },
            { value: 'dot', label: 'dot product (its code)' },
          ],
        },
        help: 'T-SAE: how two adjacent tokens’ high-level codes are compared.',
        applies: archReads('contrastive_similarity'),
      },
    ],
  },
  {
    title: 'Optimizer',
    fields: [
      {
        key: 'lr',
        label: 'learning rate',
        kind: { type: 'float', min: 0 },
        help: 'Adam step size (β1 0.9, β2 0.999, bias-corrected).',
      },
      {
        key: 'lr_warm_up_steps',
        label: 'warm-up steps',
        kind: { type: 'int', min: 0 },
        help: 'Steps of linear warm-up from 0 to the learning rate.',
      },
      {
        key: 'lr_schedule',
        label: 'schedule',
        kind: {
          type: 'select',
          options: [
            { value: 'constant', label: 'constant' },
            { value: 'cosine', label: 'cosine decay' },
          ],
        },
        help: 'After warm-up: keep the rate, or decay it along a cosine to the end of the token budget.',
      },
      {
        key: 'lr_end_fraction',
        label: 'final lr share',
        kind: { type: 'float', min: 0, max: 1 },
        help: 'Cosine: the rate at the end as a share of the learning rate.',
        applies: (c) => c.lr_schedule === 'cosine',
      },
    ],
  },
  {
    title: 'Batches',
    fields: [
      {
        key: 'seqs_per_batch',
        label: 'sequences / batch',
        kind: { type: 'int', min: 1 },
        help: 'Whole sequences per step (shuffled between steps; tokens inside a sequence never are).',
      },
      {
        key: 'context_size',
        label: 'sequence length',
        kind: { type: 'int', min: 1 },
        help: 'Consecutive positions per sequence; adjacent positions form the temporal pairs.',
      },
      {
        key: 'training_tokens',
        label: 'token budget',
        kind: { type: 'int', min: 1 },
        help: 'Tokens to train on; steps = budget ÷ (sequences × length).',
      },
      {
        key: 'seed',
        label: 'seed',
        kind: { type: 'int', min: 0, max: 0xffffffff },
        help: 'Every random choice (init, shuffling) comes from it: same seed, same data, same run.',
      },
    ],
  },
  {
    title: 'Data handling and bookkeeping',
    advanced: true,
    fields: [
      {
        key: 'normalize_activations',
        label: 'input scaling',
        kind: {
          type: 'select',
          options: [
            { value: 'none', label: 'none' },
            { value: 'expected_average_only_in', label: 'mean ‖x‖² = d (SAELens)' },
          ],
        },
        help: 'Scale inputs so the mean squared norm equals d; the factor is folded into exported weights.',
      },
      {
        key: 'doc_start_token_ids',
        label: 'doc-start ids',
        kind: { type: 'intList' },
        help: 'Token ids (comma-separated) that begin a new document inside a sequence, e.g. BOS.',
      },
      {
        key: 'dead_feature_window',
        label: 'dead window',
        kind: { type: 'int', min: 1 },
        help: 'A feature silent for this many tokens counts as dead.',
      },
      {
        key: 'metrics_every',
        label: 'read metrics every',
        kind: { type: 'int', min: 1 },
        help: 'Steps between metric readbacks (the charts’ resolution); readbacks are asynchronous.',
      },
      {
        key: 'eval_every',
        label: 'evaluate every',
        kind: { type: 'int', min: 0 },
        help: 'Steps between held-out evaluations (0: only at the end).',
      },
      {
        key: 'checkpoint_every',
        label: 'checkpoint every',
        kind: { type: 'int', min: 0 },
        help: 'Steps between checkpoints (0: only on pause and stop).',
      },
    ],
  },
];

/** Parse a field's text; returns the value or the problem in words. */
export function parseField(spec: FieldSpec, text: string): { value: unknown } | { error: string } {
  const k = spec.kind;
  if (k.type === 'select') {
    return k.options.some((o) => o.value === text) ? { value: text } : { error: 'not an option' };
  }
  if (k.type === 'intList') {
    const parts = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isInteger(n) || n < 0)) return { error: 'comma-separated token ids ≥ 0' };
    return { value: nums };
  }
  if (k.type === 'numberList') {
    const nums = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(Number);
    if (k.integer && nums.some((n) => !Number.isInteger(n) || n < 1))
      return { error: 'comma-separated whole numbers ≥ 1' };
    if (nums.some((n) => !Number.isFinite(n) || n < 0)) return { error: 'comma-separated numbers ≥ 0' };
    return { value: nums };
  }
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n)) return { error: 'a number' };
  if (k.type === 'int' && !Number.isInteger(n)) return { error: 'a whole number' };
  if (k.min !== undefined && n < k.min) return { error: `≥ ${k.min}` };
  if (k.max !== undefined) {
    if (k.type === 'float' && k.exclusiveMax && n >= k.max) return { error: `< ${k.max}` };
    if (n > k.max) return { error: `≤ ${k.max}` };
  }
  return { value: n };
}

export function fieldText(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ');
  if (value === null || value === undefined) return '';
  return String(value);
}
