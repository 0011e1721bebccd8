// Import an SAE folder: SAELens v6 and pre-6, sparsify (EleutherAI), and our own exports (which are
// SAELens v6 folders with TempoSAE metadata). Every file goes through the strict safetensors reader
// (SPEC §7); every shape is checked against cfg.json before a value is used. The result is our
// SaeWeights in the SPEC §3 form — pre = (x − b_dec)·W_enc + b_enc, x̂ = f·W_dec + b_dec, on raw
// activations — plus a TrainConfig, so the SAE can be evaluated, inspected, or trained further.
import { architectureOf, isArchitecture } from '../sae/architectures';
import { DEFAULT_CONFIG, type Architecture, type TrainConfig } from '../sae/config';
import type { SaeWeights } from '../sae/types';
import { parseJsonFile, SaeFileError } from './errors';
import { CFG_FILE, HISTORY_JSON_FILE, SPARSITY_FILE, WEIGHTS_FILE } from './exportSae';
import { foldBdecIntoBenc, foldDecoderNorms, maxDecoderNormError, unfoldInputScaling } from './fold';
import { historyFromJson, type MetricHistory } from './history';
import { parseCfgJson, type SaeProvenance } from './saelensCfg';
import { readSafetensors, tensorToFloat32, type SafeFile } from './safetensors';

export const SPARSIFY_WEIGHTS_FILE = 'sae.safetensors';

export type SaeFolderFormat = 'temposae' | 'saelens-v6' | 'saelens-pre6' | 'sparsify';

export interface ImportedSae {
  format: SaeFolderFormat;
  /** Shown in the run list: the folder name, or the run name stored by TempoSAE. */
  name: string;
  /** Weights for raw (unscaled) activations, SPEC §3 form. */
  weights: SaeWeights;
  /** The run's config when TempoSAE wrote the folder; otherwise DEFAULT_CONFIG with the file's shape and architecture. */
  config: TrainConfig;
  /** The input scaling s of the original run (already folded into `weights`; 1 when none). */
  scaling_factor: number;
  /** Training progress stored in the folder (0 when unknown). */
  steps: number;
  tokens_seen: number;
  provenance: SaeProvenance;
  /** [d_sae] log10(density + 1e-10) when the folder has sparsity.safetensors. */
  sparsity: Float32Array | null;
  history: MetricHistory | null;
  /** Things the user should know (conversions made, information that is missing). */
  warnings: string[];
}

/** Drop one leading folder shared by every path (a zip of a folder, or a dropped directory). */
export function stripCommonRoot(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const names = [...files.keys()].map((n) => n.replace(/\\/g, '/').replace(/^\.\//, ''));
  const first = names[0]?.split('/')[0];
  if (names.length && names.every((n) => n.includes('/') && n.split('/')[0] === first)) {
    const out = new Map<string, Uint8Array>();
    for (const [n, b] of files)
      out.set(
        n
          .replace(/\\/g, '/')
          .replace(/^\.\//, '')
          .slice(first.length + 1),
        b,
      );
    return stripCommonRoot(out);
  }
  return files;
}

function need(files: Map<string, Uint8Array>, name: string, folder: string): Uint8Array {
  const b = files.get(name);
  if (!b) throw new SaeFileError(folder, `${name} is missing`);
  return b;
}

function floatTensor(f: SafeFile, key: string, shape: number[], fileName: string): Float32Array {
  const t = f.tensors.get(key);
  if (!t)
    throw new SaeFileError(fileName, `tensor ${key} is missing (has: ${[...f.tensors.keys()].join(', ')})`);
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
    throw new SaeFileError(fileName, `tensor ${key} has shape [${t.shape}], expected [${shape}]`);
  const v = tensorToFloat32(t, key, fileName);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i]))
      throw new SaeFileError(fileName, `tensor ${key} has a non-finite value at index ${i}`);
  return v;
}

/** Row-major [r, c] → [c, r]. */
function transpose(a: Float32Array, r: number, c: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = a[i * c + j];
  return o;
}

function thresholdsToLog(theta: Float32Array, warnings: string[]): Float32Array {
  let clamped = 0;
  const out = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    // θ ≤ 0 behaves like plain ReLU for that feature (f = ReLU(pre)·H(pre − θ)); our log θ needs θ > 0.
    if (!(theta[i] > 0)) clamped++;
    out[i] = Math.log(Math.max(theta[i], 1e-30));
  }
  if (clamped) warnings.push(`${clamped} JumpReLU thresholds were ≤ 0 and were set to 1e-30 (same outputs)`);
  return out;
}

function importSaeLens(files: Map<string, Uint8Array>, folder: string): ImportedSae {
  const cfg = parseCfgJson(new TextDecoder().decode(need(files, CFG_FILE, folder)), `${folder}/${CFG_FILE}`);
  const { d_in: d, d_sae: m } = cfg;
  const wName = `${folder}/${WEIGHTS_FILE}`;
  const sf = readSafetensors(need(files, WEIGHTS_FILE, folder), wName);
  const warnings: string[] = [];
  let weights: SaeWeights = {
    d_in: d,
    d_sae: m,
    W_enc: floatTensor(sf, 'W_enc', [d, m], wName),
    b_enc: sf.tensors.has('b_enc') ? floatTensor(sf, 'b_enc', [m], wName) : new Float32Array(m),
    W_dec: floatTensor(sf, 'W_dec', [m, d], wName),
    b_dec: sf.tensors.has('b_dec') ? floatTensor(sf, 'b_dec', [d], wName) : new Float32Array(d),
  };
  // A TempoSAE BatchTopK folder is a SAELens JumpReLU whose thresholds are all θ (exportSae.ts): read back
  // as the BatchTopK it was, with its one θ.
  const tArch = cfg.temposae?.config.architecture;
  if (tArch !== undefined && isArchitecture(tArch) && architectureOf(tArch).gpu.activation === 'batchtopk') {
    const th = floatTensor(sf, 'threshold', [m], wName);
    const bad = th.findIndex((v) => v !== th[0]);
    if (bad >= 0)
      throw new SaeFileError(
        wName,
        `a BatchTopK SAE has one threshold for every feature, but threshold[0] = ${th[0]} and threshold[${bad}] = ${th[bad]}`,
      );
    if (!(th[0] >= 0)) throw new SaeFileError(wName, `the BatchTopK threshold ${th[0]} is negative`);
    weights.topk_threshold = th[0];
  } else if (architectureOf(cfg).extraParams.includes('log_threshold')) {
    if (sf.tensors.has('threshold'))
      weights.log_threshold = thresholdsToLog(floatTensor(sf, 'threshold', [m], wName), warnings);
    else if (sf.tensors.has('log_threshold'))
      weights.log_threshold = floatTensor(sf, 'log_threshold', [m], wName);
    else throw new SaeFileError(wName, 'a JumpReLU SAE needs a threshold tensor');
  }
  // Pre-6 fine-tuning scale multiplies f before decoding: x̂ = (f ⊙ c)·W_dec + b_dec, i.e. W_dec[i] ← c_i·W_dec[i].
  if (sf.tensors.has('scaling_factor')) {
    const c = floatTensor(sf, 'scaling_factor', [m], wName);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) weights.W_dec[i * d + j] *= c[i];
    if (c.some((v) => v !== 1)) warnings.push('the fine-tuning scaling_factor was folded into W_dec');
  }
  if (!cfg.apply_b_dec_to_input) {
    weights = foldBdecIntoBenc(weights);
    warnings.push('apply_b_dec_to_input was false: b_dec·W_enc was folded into b_enc (same outputs)');
  }
  if (cfg.normalize_activations === 'expected_average_only_in')
    warnings.push(
      'cfg.json says normalize_activations = expected_average_only_in with the factor not folded in: the SAE expects inputs already scaled by a factor that is not in the folder',
    );
  else if (cfg.normalize_activations !== 'none')
    throw new SaeFileError(
      `${folder}/${CFG_FILE}`,
      `normalize_activations '${cfg.normalize_activations}' rescales each token at run time; TempoSAE supports 'none' and 'expected_average_only_in'`,
    );
  let sparsity: Float32Array | null = null;
  if (files.has(SPARSITY_FILE)) {
    const sName = `${folder}/${SPARSITY_FILE}`;
    sparsity = floatTensor(readSafetensors(files.get(SPARSITY_FILE)!, sName), 'sparsity', [m], sName);
  }
  let history: MetricHistory | null = null;
  if (files.has(HISTORY_JSON_FILE))
    history = historyFromJson(
      new TextDecoder().decode(files.get(HISTORY_JSON_FILE)!),
      `${folder}/${HISTORY_JSON_FILE}`,
    );
  const t = cfg.temposae;
  const config: TrainConfig = t
    ? t.config
    : { ...DEFAULT_CONFIG, architecture: cfg.architecture, d_in: d, d_sae: m, k: cfg.k ?? DEFAULT_CONFIG.k };
  if (!t && cfg.normalize_activations === 'none') config.normalize_activations = 'none';
  return {
    format: t ? 'temposae' : cfg.layout,
    name: t?.run_name ?? folder,
    weights,
    config,
    scaling_factor: t?.scaling_factor ?? 1,
    steps: t?.steps ?? 0,
    tokens_seen: t?.tokens_seen ?? 0,
    provenance: cfg.provenance,
    sparsity,
    history,
    warnings,
  };
}

function importSparsify(files: Map<string, Uint8Array>, folder: string): ImportedSae {
  const cName = `${folder}/${CFG_FILE}`;
  const c = parseJsonFile(new TextDecoder().decode(need(files, CFG_FILE, folder)), cName) as Record<
    string,
    unknown
  >;
  if (c.skip_connection) throw new SaeFileError(cName, 'skip_connection SAEs (W_skip) are not supported');
  if (c.transcode) throw new SaeFileError(cName, 'this is a transcoder, not an SAE');
  const activation = String(c.activation ?? 'topk');
  if (activation !== 'topk')
    throw new SaeFileError(cName, `activation '${activation}' is not supported (only topk)`);
  const wName = `${folder}/${SPARSIFY_WEIGHTS_FILE}`;
  const sf = readSafetensors(need(files, SPARSIFY_WEIGHTS_FILE, folder), wName);
  const encT = sf.tensors.get('encoder.weight');
  if (!encT || encT.shape.length !== 2)
    throw new SaeFileError(wName, 'tensor encoder.weight [num_latents, d_in] is missing');
  // sparsify stores the encoder as a torch Linear: weight [num_latents, d_in], i.e. W_encᵀ.
  const [m, d] = encT.shape;
  if (c.d_in !== undefined && c.d_in !== d)
    throw new SaeFileError(wName, `encoder.weight has d_in ${d}, cfg.json says ${c.d_in}`);
  if (c.num_latents && c.num_latents !== m)
    throw new SaeFileError(wName, `encoder.weight has ${m} latents, cfg.json says ${c.num_latents}`);
  const k = c.k;
  if (!Number.isSafeInteger(k) || (k as number) <= 0 || (k as number) > m)
    throw new SaeFileError(cName, `k must be an integer in 1..${m} (got ${JSON.stringify(k)})`);
  const encW = floatTensor(sf, 'encoder.weight', [m, d], wName);
  const decT = sf.tensors.get('W_dec');
  if (!decT) throw new SaeFileError(wName, 'tensor W_dec is missing');
  // W_dec is [num_latents, d_in] in sparsify; accept the transpose too when the shape says so unambiguously.
  const W_dec =
    decT.shape[0] === d && decT.shape[1] === m && d !== m
      ? transpose(floatTensor(sf, 'W_dec', [d, m], wName), d, m)
      : floatTensor(sf, 'W_dec', [m, d], wName);
  const weights: SaeWeights = {
    d_in: d,
    d_sae: m,
    W_enc: transpose(encW, m, d),
    b_enc: sf.tensors.has('encoder.bias') ? floatTensor(sf, 'encoder.bias', [m], wName) : new Float32Array(m),
    W_dec,
    b_dec: sf.tensors.has('b_dec') ? floatTensor(sf, 'b_dec', [d], wName) : new Float32Array(d),
  };
  const architecture: Architecture = 'topk';
  return {
    format: 'sparsify',
    name: folder,
    weights,
    config: { ...DEFAULT_CONFIG, architecture, d_in: d, d_sae: m, k: k as number },
    scaling_factor: 1,
    steps: 0,
    tokens_seen: 0,
    provenance: {},
    sparsity: null,
    history: null,
    warnings: [],
  };
}

/**
 * Import one SAE folder given as file name → bytes (from a zip, a dropped directory or the disk).
 * `folder` names it in messages. Throws SaeFileError; never returns a half-read SAE.
 */
export function importSaeFolder(filesIn: Map<string, Uint8Array>, folder: string): ImportedSae {
  const files = stripCommonRoot(filesIn);
  if (files.has(WEIGHTS_FILE)) return importSaeLens(files, folder);
  if (files.has(SPARSIFY_WEIGHTS_FILE)) return importSparsify(files, folder);
  const sub = [...files.keys()].filter((n) => /(^|\/)(sae_weights|sae)\.safetensors$/.test(n));
  if (sub.length)
    throw new SaeFileError(
      folder,
      `holds several SAEs; pick one folder: ${sub.map((s) => s.slice(0, s.lastIndexOf('/')) || '.').join(', ')}`,
    );
  throw new SaeFileError(
    folder,
    `no ${WEIGHTS_FILE} (SAELens) or ${SPARSIFY_WEIGHTS_FILE} (sparsify) found (files: ${[...files.keys()].slice(0, 8).join(', ')})`,
  );
}

/**
 * Weights to continue training an imported SAE: back in the run's scaled units (unfold s) and with
 * unit-norm decoder rows (SPEC §3), folding any row norms into the encoder (fold.ts explains when that is exact).
 */
export function trainingInitFromImport(imp: ImportedSae): { weights: SaeWeights; warnings: string[] } {
  const warnings: string[] = [];
  let w = imp.scaling_factor !== 1 ? unfoldInputScaling(imp.weights, imp.scaling_factor) : imp.weights;
  const err = maxDecoderNormError(w);
  if (err > 1e-4) {
    w = foldDecoderNorms(w);
    warnings.push(
      // A selection (TopK) compares pre-activations across features, which the folded norms rescale.
      architectureOf(imp.config).gpu.activation !== 'elementwise'
        ? 'decoder rows were rescaled to unit norm (norms folded into the encoder); for TopK this can change which features win'
        : 'decoder rows were rescaled to unit norm with the norms folded into the encoder (same outputs)',
    );
  }
  return { weights: w, warnings };
}
