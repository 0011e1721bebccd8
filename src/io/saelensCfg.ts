// cfg.json in the SAELens v6 layout (SPEC §7), and reading the pre-6 and v6 layouts back.
//
// What SAELens v6 reads (sae_lens/saes/sae.py SAEConfig + SAEMetadata; loading/pretrained_sae_loaders.py):
//   top level: architecture ('standard' | 'topk' | 'jumprelu'), d_in, d_sae, dtype, device,
//   apply_b_dec_to_input, normalize_activations, reshape_activations, k (TopK only), and `metadata`
//   {model_name, hook_name, hook_head_index, prepend_bos, context_size, dataset_path, sae_lens_version, …}.
//   A config whose metadata.sae_lens_version (or top-level sae_lens_version) is < 6.0.0 — or that has
//   none — is treated by SAELens as pre-6 and rewritten (hook_point → hook_name, activation_fn_str,
//   activation_fn_kwargs.k, flat metadata keys). SAEMetadata keeps any extra keys, so every TempoSAE
//   hyperparameter rides along flat in `metadata` (SAELens ignores what it does not know).
import {
  ARCHITECTURE_IDS,
  ARCHITECTURES,
  architectureFromSaelens,
  architectureOf,
} from '../sae/architectures';
import { DEFAULT_CONFIG, type Architecture, type TrainConfig } from '../sae/config';
import { parseJsonFile, SaeFileError } from './errors';

/** The SAELens version whose layout we write. SAELens only checks that it is ≥ 6.0.0. */
export const SAELENS_LAYOUT_VERSION = '6.0.0';
/** Bumped when the TempoSAE-specific metadata changes meaning. */
export const TEMPOSAE_FORMAT_VERSION = 1;

/** Where the activations came from; SAELens names, all optional (unknown for the built-in dataset). */
export interface SaeProvenance {
  model_name?: string | null;
  hook_name?: string | null;
  hook_layer?: number | null;
  dataset_path?: string | null;
  /** SAELens prepend_bos of the activations (default true). */
  prepend_bos?: boolean;
  /** SAELens model_from_pretrained_kwargs: the TransformerLens processing (center_writing_weights). */
  model_from_pretrained_kwargs?: Record<string, unknown>;
}

export interface CfgJsonInput {
  config: TrainConfig;
  provenance?: SaeProvenance;
  /** Input scaling that was folded into the exported weights (1 when none). */
  scaling_factor: number;
  /** Training progress at export. */
  steps: number;
  tokens_seen: number;
  /** A display name for the run, if any. */
  run_name?: string;
}

/** Build the cfg.json object. Weights in the folder must already have any input scaling folded in. */
export function buildCfgJson(inp: CfgJsonInput): Record<string, unknown> {
  const c = inp.config;
  const p = inp.provenance ?? {};
  const cfg: Record<string, unknown> = {
    architecture: architectureOf(c).saelens.architecture,
    d_in: c.d_in,
    d_sae: c.d_sae,
    dtype: 'float32',
    device: 'cpu',
    // Our encoder always computes (x − b_dec)·W_enc + b_enc (SPEC §3).
    apply_b_dec_to_input: true,
    // Scaling is folded into the weights (see fold.ts), so SAELens must not rescale again.
    normalize_activations: 'none',
    reshape_activations: 'none',
  };
  Object.assign(cfg, architectureOf(c).saelens.cfgFields(c)); // e.g. TopK's k
  const { d_in: _d, d_sae: _m, architecture: _a, ...hyper } = c;
  cfg.metadata = {
    model_name: p.model_name ?? null,
    hook_name: p.hook_name ?? null,
    hook_layer: p.hook_layer ?? null,
    hook_head_index: null,
    prepend_bos: p.prepend_bos ?? true,
    dataset_path: p.dataset_path ?? null,
    ...(p.model_from_pretrained_kwargs
      ? { model_from_pretrained_kwargs: p.model_from_pretrained_kwargs }
      : {}),
    sae_lens_version: SAELENS_LAYOUT_VERSION,
    sae_lens_training_version: null,
    // --- TempoSAE: every hyperparameter of the run (src/sae/config.ts names), flat ---
    ...hyper,
    temposae_version: TEMPOSAE_FORMAT_VERSION,
    temposae_architecture: c.architecture,
    temposae_normalize_activations: c.normalize_activations,
    temposae_scaling_factor: inp.scaling_factor,
    temposae_steps: inp.steps,
    temposae_tokens_seen: inp.tokens_seen,
    temposae_run_name: inp.run_name ?? null,
  };
  return cfg;
}

/** What a cfg.json tells us, in our terms. */
export interface ParsedCfg {
  layout: 'saelens-v6' | 'saelens-pre6';
  architecture: Architecture;
  d_in: number;
  d_sae: number;
  k: number | null;
  apply_b_dec_to_input: boolean;
  normalize_activations: string;
  provenance: SaeProvenance;
  /** Present when the folder was written by TempoSAE: the run's config and export facts. */
  temposae: null | {
    config: TrainConfig;
    scaling_factor: number;
    steps: number;
    tokens_seen: number;
    run_name: string | null;
  };
}

function versionAtLeast6(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const major = parseInt(v.split('.')[0], 10);
  return Number.isFinite(major) && major >= 6;
}

export function parseCfgJson(text: string, fileName: string): ParsedCfg {
  const raw = parseJsonFile(text, fileName);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new SaeFileError(fileName, 'not a JSON object');
  const c = raw as Record<string, unknown>;
  const meta =
    typeof c.metadata === 'object' && c.metadata !== null && !Array.isArray(c.metadata)
      ? (c.metadata as Record<string, unknown>)
      : {};
  const v6 = versionAtLeast6(c.sae_lens_version) || versionAtLeast6(meta.sae_lens_version);
  const int = (v: unknown, what: string): number => {
    if (!Number.isSafeInteger(v) || (v as number) <= 0)
      throw new SaeFileError(fileName, `${what} must be a positive integer (got ${JSON.stringify(v)})`);
    return v as number;
  };
  const d_in = int(c.d_in, 'd_in');
  const d_sae = int(c.d_sae, 'd_sae');
  // Pre-6 configs name the activation separately; v6 puts it in `architecture`.
  const archRaw = String(c.architecture ?? 'standard');
  const actFn = String(c.activation_fn_str ?? c.activation_fn ?? 'relu');
  const kwargs = (c.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  // The registry knows each architecture's SAELens name (src/sae/architectures); a pre-6 'standard' SAE
  // is TopK when its activation is, and must otherwise be a plain ReLU.
  const spec = architectureFromSaelens(archRaw === 'standard' && actFn === 'topk' ? 'topk' : archRaw);
  if (!spec || (archRaw === 'standard' && actFn !== 'relu' && actFn !== 'topk')) {
    // Each SAELens name once, under the architecture it imports as (BatchTopK saves as 'jumprelu').
    const known = ARCHITECTURE_IDS.filter(
      (id) => architectureFromSaelens(ARCHITECTURES[id].saelens.architecture)?.id === id,
    ).map((id) => `${ARCHITECTURES[id].saelens.architecture} (${ARCHITECTURES[id].name})`);
    throw new SaeFileError(
      fileName,
      `architecture '${archRaw}' (activation '${actFn}') is not one TempoSAE runs; supported: ${known.join(', ')}`,
    );
  }
  const architecture: Architecture = spec.id;
  const k = spec.configKeys.includes('k') ? int(c.k ?? kwargs.k, 'k') : null;
  let norm = c.normalize_activations ?? 'none';
  if (typeof norm === 'boolean') norm = norm ? 'expected_average_only_in' : 'none'; // SAELens' own back-compat rule
  const apply_b_dec_to_input = c.apply_b_dec_to_input === undefined ? true : Boolean(c.apply_b_dec_to_input);
  const pick = (key: string, oldKey?: string) =>
    meta[key] ?? c[key] ?? (oldKey ? c[oldKey] : undefined) ?? null;
  const provenance: SaeProvenance = {
    model_name: pick('model_name') as string | null,
    hook_name: pick('hook_name', 'hook_point') as string | null,
    hook_layer: pick('hook_layer', 'hook_point_layer') as number | null,
    dataset_path: pick('dataset_path') as string | null,
  };
  let temposae: ParsedCfg['temposae'] = null;
  if (typeof meta.temposae_version === 'number') {
    if (meta.temposae_version > TEMPOSAE_FORMAT_VERSION)
      throw new SaeFileError(
        fileName,
        `written by a newer TempoSAE (format ${meta.temposae_version}); update the app`,
      );
    const config = { ...DEFAULT_CONFIG } as Record<string, unknown>;
    for (const key of Object.keys(DEFAULT_CONFIG)) if (key in meta) config[key] = meta[key];
    config.d_in = d_in;
    config.d_sae = d_sae;
    config.architecture = meta.temposae_architecture ?? architecture;
    config.normalize_activations = meta.temposae_normalize_activations ?? 'none';
    if (k !== null) config.k = k;
    temposae = {
      config: config as unknown as TrainConfig,
      scaling_factor: Number(meta.temposae_scaling_factor ?? 1),
      steps: Number(meta.temposae_steps ?? 0),
      tokens_seen: Number(meta.temposae_tokens_seen ?? 0),
      run_name: (meta.temposae_run_name as string | null) ?? null,
    };
  }
  return {
    layout: v6 ? 'saelens-v6' : 'saelens-pre6',
    architecture,
    d_in,
    d_sae,
    k,
    apply_b_dec_to_input,
    normalize_activations: String(norm),
    provenance,
    temposae,
  };
}
