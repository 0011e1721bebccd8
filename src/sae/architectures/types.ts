// What an SAE architecture is, as data: its parameters, loss terms, config fields, GPU kernels, initial
// values and SAELens names. One object per architecture (relu.ts, topk.ts, jumprelu.ts), listed in
// index.ts; every consumer (trainer passes, config form, loss formula, charts, checkpoint and export)
// reads these fields instead of testing the architecture's name. No GPU code and no React here: the UI,
// io and the GPU passes all import it (src/sae is below ui/app/store and above gpu).
import type { Architecture, TrainConfig } from '../config';

/** Parameters beyond W_enc, b_enc, W_dec, b_dec that some architecture trains. Each is [d_sae]. */
export const EXTRA_PARAMS = ['log_threshold'] as const;
export type ExtraParam = (typeof EXTRA_PARAMS)[number];

/**
 * A term of the loss besides L_recon and the temporal term λ2·α·L_temp (which every architecture has).
 *   sparse: λ1·L_sparse with L_sparse = mean Σ|f| ('L1') or mean of active-feature counts ('L0');
 *   aux:    TopK's AuxK residual loss (Gao et al. 2024) times aux_k_coefficient.
 *   matryoshka: L_mat = Σ_g c_g·L_g over nested prefixes (Bussmann et al. 2025), in place of L_recon in
 *           the loss; L_recon (the whole dictionary's) still drives α and is logged.
 *   contrastive: T-SAE's InfoNCE on adjacent tokens' first-prefix codes (Bhalla et al. 2025) times
 *           contrastive_coefficient.
 * `metric` is the StepMetrics field that carries the term's unscaled value.
 */
export type LossTerm =
  | { id: 'sparse'; kind: 'L1' | 'L0'; coefficient: 'l1_coefficient'; metric: 'l_sparse' }
  | { id: 'aux'; coefficient: 'aux_k_coefficient'; metric: 'l_aux' }
  | { id: 'matryoshka'; metric: 'l_mat' }
  | { id: 'contrastive'; coefficient: 'contrastive_coefficient'; metric: 'l_nce' };

/** Matryoshka prefixes of a config as the kernels take them (shaders/matryoshka_*.wgsl). */
export interface MatryoshkaPlan {
  /** Prefix ends e_0 < … < e_{G−1} = d_sae. */
  ends: number[];
  /**
   * w_g of L_mat = (1/G)·Σ_g w_g·L_g, the form of the reference (src/sae/reference/matryoshka.ts) and the
   * kernels (the T-SAE code's mean over groups): G × the config's matryoshka_weights c_g.
   */
  weights: number[];
}

/** T-SAE's contrastive term of a config (shaders/infonce_*.wgsl). */
export interface ContrastivePlan {
  /** Width of the high-level codes: the first Matryoshka prefix. */
  H: number;
  coefficient: number;
  temperature: number;
  cosine: boolean;
}

/**
 * The kernels that differ between architectures (src/sae/gpu/passes/*.ts turn this into dispatches):
 *   activation  'elementwise': shaders/activate.wgsl (ReLU max(pre, 0), or pre·H(pre − θ) with the
 *               threshold parameter); 'topk': shaders/topk.wgsl (per-row radix select of the k largest);
 *               'batchtopk': shaders/batchtopk_*.wgsl (the k·N largest over the whole batch in training,
 *               with the inference threshold θ as trainer state; f = pre·H(pre − θ) at inference).
 *   sparsity    the sparsity gradient feature_grad.wgsl adds to ∂L/∂f (SPARSITY override): 'L1' (λ1/N)·sign(f);
 *               'L0' only through the threshold's straight-through estimator; null: none.
 *   auxk        AuxK passes (auxk_select, aux_resid, aux_add and their products) for this config.
 *   sparseProducts  f has few non-zeros per row: products with f skip its zeros (topk_spmm.wgsl, …).
 */
export interface GpuRecipe {
  activation: 'elementwise' | 'topk' | 'batchtopk';
  auxk(cfg: TrainConfig): boolean;
  sparseProducts(cfg: TrainConfig): boolean;
  /**
   * Matryoshka: nested prefix losses replace L_recon's gradient (shaders/matryoshka_*.wgsl, recorded by
   * passes/losses.ts and backward.ts); absent or null: the plain L_recon.
   */
  matryoshka?(cfg: TrainConfig): MatryoshkaPlan | null;
  /** T-SAE's InfoNCE on adjacent tokens' high-level codes (shaders/infonce_*.wgsl); absent or null: none. */
  contrastive?(cfg: TrainConfig): ContrastivePlan | null;
}

export interface ArchitectureSpec {
  readonly id: Architecture;
  /** Short name for summaries and run labels. */
  readonly name: string;
  /** Option text in the config form's architecture select. */
  readonly option: string;
  /** A run's architecture in a few characters, with its key setting (e.g. 'TopK k=32'). */
  label(cfg: TrainConfig): string;
  /** Parameters beyond the four every SAE has: trained by Adam, checkpointed, exported. */
  readonly extraParams: readonly ExtraParam[];
  /** TrainConfig keys only this architecture reads; the config form shows them only for it. */
  readonly configKeys: readonly (keyof TrainConfig)[];
  /** Loss terms besides L_recon and the temporal term, for this config (formula, charts, metrics). */
  lossTerms(cfg: TrainConfig): LossTerm[];
  /** How the sparsity term's gradient enters ∂L/∂f (see GpuRecipe). */
  readonly sparsity: 'L1' | 'L0' | null;
  readonly gpu: GpuRecipe;
  /** Config problems specific to this architecture, in words. */
  validate(cfg: TrainConfig): string[];
  /** Initial value of each extra parameter (SPEC §3), per feature. */
  initExtra(cfg: Pick<TrainConfig, 'jumprelu_init_threshold'>): Partial<Record<ExtraParam, number>>;
  /** SAELens v6 cfg.json: the `architecture` name and the architecture's own top-level keys. */
  readonly saelens: { architecture: string; cfgFields(cfg: TrainConfig): Record<string, unknown> };
}
