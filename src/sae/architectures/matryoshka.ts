// Matryoshka BatchTopK SAE (Bussmann et al. 2025, "Learning Multi-Level Features with Matryoshka SAEs";
// SAELens MatryoshkaBatchTopKTrainingSAE): BatchTopK's f (batchtopk.ts: the k·N largest over the batch,
// the inference threshold θ) and, in place of L_recon, nested prefixes of the dictionary that each
// reconstruct x:
//   x̂⁽ᵍ⁾ = b_dec + Σ_{i < e_g} f_i·W_dec_i,   L_g = mean ‖x − x̂⁽ᵍ⁾‖²,   L_mat = Σ_g c_g·L_g
// with prefix ends e_g = matryoshka_widths (SAELens's name and meaning; d_sae appended when the last is
// smaller, as SAELens's _validate_matryoshka_config does) and weights c_g = matryoshka_weights. SAELens
// adds every prefix's loss with weight 1 (training_forward_pass: the base loss plus each inner_mse_loss),
// which is the default here. L_recon (the whole dictionary's, = L_{G−1}) drives α and is logged; the
// temporal penalty λ2·α·L_temp is added as for every architecture. Saved for inference as SAELens does
// (a JumpReLU with θ for every feature). Kernels: shaders/matryoshka_*.wgsl (recorded by
// src/sae/gpu/passes/losses.ts, backward.ts); float64 reference src/sae/reference/matryoshka.ts, methods.ts.
// Not here (written down): SAELens's optional use_matryoshka_aux_loss / TopK AuxK (the reference has none).
import type { TrainConfig } from '../config';
import { batchtopk } from './batchtopk';
import type { ArchitectureSpec, MatryoshkaPlan } from './types';

/** Prefixes the kernels take (struct Mat in shaders/method_common.wgsl holds 8 ends and weights). */
export const MATRYOSHKA_MAX_GROUPS = 8;

type PrefixCfg = Pick<TrainConfig, 'd_sae' | 'matryoshka_widths' | 'matryoshka_weights'>;

/** Defaults of an architecture when matryoshka_widths / matryoshka_weights are empty. */
export interface PrefixDefaults {
  /** Prefix ends below d_sae for a dictionary of m features. */
  widths(m: number): number[];
  /** Weights c_g for G prefixes. */
  weights(G: number): number[];
}

/** Prefix ends (d_sae last) of a config: its widths, or the defaults; not validated. */
export function prefixEnds(c: PrefixCfg, defaults: PrefixDefaults): number[] {
  const w = c.matryoshka_widths.length ? [...c.matryoshka_widths] : defaults.widths(c.d_sae);
  if (w[w.length - 1] !== c.d_sae) w.push(c.d_sae);
  return w;
}

/** Weights c_g of L_mat = Σ_g c_g·L_g, one per prefix. */
export function prefixWeights(c: PrefixCfg, defaults: PrefixDefaults): number[] {
  const G = prefixEnds(c, defaults).length;
  return c.matryoshka_weights.length ? [...c.matryoshka_weights] : defaults.weights(G);
}

/** What the kernels take: ends, and w_g = G·c_g (they compute (1/G)·Σ w_g·L_g, the reference's form). */
export function matryoshkaPlanOf(c: PrefixCfg, defaults: PrefixDefaults): MatryoshkaPlan {
  const ends = prefixEnds(c, defaults);
  return { ends, weights: prefixWeights(c, defaults).map((v) => v * ends.length) };
}

/** Problems with the prefix settings, in words (empty when valid). */
export function validatePrefixes(c: TrainConfig, defaults: PrefixDefaults): string[] {
  const p: string[] = [];
  const w = c.matryoshka_widths;
  if (!Array.isArray(w) || !Array.isArray(c.matryoshka_weights))
    return ['matryoshka_widths and matryoshka_weights must be lists of numbers'];
  if (w.some((v, i) => !Number.isInteger(v) || v < 1 || v > c.d_sae || (i > 0 && v <= w[i - 1])))
    p.push(
      `matryoshka_widths must be strictly increasing integers in 1..d_sae = ${c.d_sae} (got ${w.join(', ')})`,
    );
  const ends = prefixEnds(c, defaults);
  if (!p.length && ends.some((v, i) => v < 1 || (i > 0 && v <= ends[i - 1])))
    p.push(
      `d_sae = ${c.d_sae} is too small for the default prefixes (${ends.join(', ')}); set matryoshka_widths`,
    );
  if (ends.length > MATRYOSHKA_MAX_GROUPS)
    p.push(
      `matryoshka_widths gives ${ends.length} prefixes; the kernels take at most ${MATRYOSHKA_MAX_GROUPS}`,
    );
  const cw = c.matryoshka_weights;
  if (cw.length && cw.length !== ends.length)
    p.push(
      `matryoshka_weights has ${cw.length} values but there are ${ends.length} prefixes (${ends.join(', ')}); ` +
        `give one weight per prefix or none`,
    );
  if (cw.some((v) => !(v >= 0) || !Number.isFinite(v)) || (cw.length && cw.every((v) => v === 0)))
    p.push(`matryoshka_weights must be finite numbers ≥ 0, not all 0 (got ${cw.join(', ')})`);
  if (c.recon_loss !== 'squared')
    p.push(`the Matryoshka losses are squared errors: recon_loss must be 'squared' (got '${c.recon_loss}')`);
  return p;
}

/** Geometric widths as in the Matryoshka papers: d_sae/8, /4, /2 (then d_sae); SAELens's weight 1 each. */
export const MATRYOSHKA_DEFAULTS: PrefixDefaults = {
  widths: (m) => [Math.floor(m / 8), Math.floor(m / 4), Math.floor(m / 2)],
  weights: (G) => new Array<number>(G).fill(1),
};

export const matryoshka: ArchitectureSpec = {
  id: 'matryoshka_batchtopk',
  name: 'Matryoshka BatchTopK',
  option: 'Matryoshka BatchTopK (nested prefixes)',
  label: (c) => `Matryoshka k=${c.k} [${prefixEnds(c, MATRYOSHKA_DEFAULTS).join(',')}]`,
  extraParams: batchtopk.extraParams,
  configKeys: [...batchtopk.configKeys, 'matryoshka_widths', 'matryoshka_weights'],
  lossTerms: () => [{ id: 'matryoshka', metric: 'l_mat' }],
  sparsity: null,
  gpu: {
    ...batchtopk.gpu,
    matryoshka: (c) => matryoshkaPlanOf(c, MATRYOSHKA_DEFAULTS),
  },
  validate: (c) => [...batchtopk.validate(c), ...validatePrefixes(c, MATRYOSHKA_DEFAULTS)],
  initExtra: batchtopk.initExtra,
  // SAELens saves a Matryoshka BatchTopK SAE for inference as BatchTopK does: a JumpReLU (θ per feature);
  // the prefixes are in cfg.json's metadata with every other hyperparameter.
  saelens: batchtopk.saelens,
};
