// The built-in dataset (SPEC §8): synthetic activations with known ground truth and real temporal
// structure, generated on the fly from a seed (nothing stored; any sequence can be regenerated).
//
//   - F true directions u_i: random unit vectors in R^d (Rng(seed, 1)).
//   - Each feature is a two-state Markov chain per document: off → on with p_on_i, on → on with q_i
//     (persistence; a third of the features have q = 0 and last one token, the rest last 2–30 tokens
//     on average). p_on_i is set so the stationary firing density is the feature's target density
//     (log-uniform in [densityMin, densityMax]): density = p_on / (p_on + 1 − q).
//   - While on, the magnitude is drawn once per run, m = base_i·exp(0.25·z), and jittered per token
//     by 5 %, so a run is one "event" of roughly constant strength.
//   - x_t = Σ a_i·u_i + N(0, noise²·I).
//   - Documents of random length (geometric, mean docLen) inside each sequence; at a document start
//     every chain is reset to off and the token is BOS (id 0), so doc_start_token_ids = [0].
// Sequence s is generated from Rng(seed, 0x10000 + s), so reading it twice gives the same numbers.
//
// Token text: id 0 "<bos>", id 1 "·" (no feature on), id 2 + i "f{i}" (the strongest active feature),
// so the inspector has something readable that is tied to the truth.
import { Rng } from './rng';
import type { ActivationSource } from './types';

export interface SyntheticConfig {
  seed: number;
  /** Activation width. */
  d: number;
  /** True features. */
  F: number;
  numSequences: number;
  seqLen: number;
  /** Mean document length in tokens. */
  docLen: number;
  densityMin: number;
  densityMax: number;
  /** Per-dimension noise standard deviation, relative to `scale`. */
  noise: number;
  /** Overall activation scale: base magnitudes are uniform in [scale, 3·scale]. */
  scale?: number;
}

export type SyntheticPreset = 'tiny' | 'default' | 'large';

export const SYNTHETIC_PRESETS: Record<SyntheticPreset, Omit<SyntheticConfig, 'seed'>> = {
  /** For tests: a few milliseconds to generate everything. */
  tiny: {
    d: 16,
    F: 32,
    numSequences: 64,
    seqLen: 32,
    docLen: 24,
    densityMin: 0.02,
    densityMax: 0.1,
    noise: 0.02,
  },
  /**
   * The first screen. F = 128 in d = 64 (2× overcomplete), L0 ≈ 4: a ReLU SAE with d_sae 512 at
   * SYNTHETIC_RECOMMENDED settings reached mmcs 0.88 / recovered 0.72 after 1500 steps of only 512
   * tokens (CPU reference) and was still climbing; F = 256 was slower (0.75 / 0.47 at 1500 steps).
   */
  default: {
    d: 64,
    F: 128,
    numSequences: 2048,
    seqLen: 128,
    docLen: 96,
    densityMin: 0.01,
    densityMax: 0.06,
    noise: 0.03,
  },
  /** Closer to a real model's width: F = 1024 in d = 256 (4× overcomplete), L0 ≈ 6; not yet measured. */
  large: {
    d: 256,
    F: 1024,
    numSequences: 8192,
    seqLen: 128,
    docLen: 96,
    densityMin: 0.002,
    densityMax: 0.012,
    noise: 0.03,
  },
};

/**
 * Training settings that recover the presets (measured with the CPU reference step; see
 * test/unit/data/syntheticRecovery.test.ts). The method's defaults (λ1 0.04, lr 3e-4) give dense codes
 * on this data: with SPEC's L_recon (summed over d) a ReLU SAE's L1 shrinkage is λ1/2, and it must
 * exceed the interference between features in superposition, ≈ a·√(L0/d) ≈ 0.5 for magnitudes a ≈ 2.
 * Use these for the built-in data, or λ1·(data scale) in general.
 */
export const SYNTHETIC_RECOMMENDED: Record<SyntheticPreset, { l1_coefficient: number; lr: number }> = {
  tiny: { l1_coefficient: 1.0, lr: 3e-3 },
  default: { l1_coefficient: 1.0, lr: 3e-3 },
  large: { l1_coefficient: 1.0, lr: 3e-3 },
};

export const SYNTHETIC_BOS = 0;
const NONE = 1;
const FIRST_FEATURE_ID = 2;

/** Per-token ground truth of some sequences, CSR over tokens: features/values of token n are [offsets[n], offsets[n+1]). */
export interface SyntheticTruth {
  offsets: Int32Array;
  features: Int32Array;
  values: Float32Array;
}

export interface SyntheticSource extends ActivationSource {
  readonly config: SyntheticConfig;
  /** [F·d] true directions, row-major, unit norm. */
  readonly trueDictionary: Float32Array;
  readonly F: number;
  /** Per-feature persistence q_i, on-probability p_on_i and base magnitude. */
  readonly persistence: Float32Array;
  readonly pOn: Float32Array;
  readonly magnitude: Float32Array;
  /** Which true features are on at each token of these sequences, with their magnitudes. */
  truth(indices: number[]): SyntheticTruth;
  /** Token text of a synthetic token id. */
  tokenText(id: number): string;
  /** The synthetic vocabulary (index = token id). */
  vocabulary(): string[];
}

export function syntheticConfig(
  preset: SyntheticPreset,
  seed: number,
  overrides: Partial<SyntheticConfig> = {},
): SyntheticConfig {
  return { ...SYNTHETIC_PRESETS[preset], seed, ...overrides };
}

export function createSyntheticSource(cfg: SyntheticConfig): SyntheticSource {
  const { d, F, seqLen: T } = cfg;
  const rng = new Rng(cfg.seed, 1);
  const dict = new Float32Array(F * d);
  for (let i = 0; i < F; i++) {
    let n = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.normal();
      dict[i * d + j] = v;
      n += v * v;
    }
    n = Math.sqrt(n);
    for (let j = 0; j < d; j++) dict[i * d + j] /= n;
  }
  const persistence = new Float32Array(F);
  const pOn = new Float32Array(F);
  const magnitude = new Float32Array(F);
  const lo = Math.log(cfg.densityMin);
  const hi = Math.log(cfg.densityMax);
  for (let i = 0; i < F; i++) {
    // A third of the features fire for single tokens; the rest persist with mean run length 2–30.
    const q = i % 3 === 0 ? 0 : 1 - 1 / rng.uniform(2, 30);
    const density = Math.exp(rng.uniform(lo, hi));
    persistence[i] = q;
    pOn[i] = Math.min(1, (density * (1 - q)) / (1 - density));
    magnitude[i] = rng.uniform(1, 3) * (cfg.scale ?? 1);
  }

  const noiseSd = cfg.noise * (cfg.scale ?? 1);

  /** Generates one sequence into x[off…] (and ids, truth lists when given). */
  const generate = (
    s: number,
    x: Float32Array,
    xOff: number,
    ids: Int32Array,
    idOff: number,
    truth?: { f: number[]; v: number[]; counts: number[] },
  ) => {
    const r = new Rng(cfg.seed, 0x10000 + s);
    const amp = new Float32Array(F); // run magnitude of each feature, 0 when off
    for (let t = 0; t < T; t++) {
      const docStart = t === 0 || r.next() < 1 / cfg.docLen;
      if (docStart) amp.fill(0);
      const row = xOff + t * d;
      let best = -1;
      let bestA = 0;
      let count = 0;
      for (let i = 0; i < F; i++) {
        const u = r.next();
        if (amp[i] > 0) {
          if (u >= persistence[i]) amp[i] = 0;
        } else if (u < pOn[i]) {
          amp[i] = magnitude[i] * Math.exp(0.25 * r.normal());
        }
        if (amp[i] > 0) {
          const a = Math.max(0, amp[i] * (1 + 0.05 * r.normal()));
          for (let j = 0; j < d; j++) x[row + j] += a * dict[i * d + j];
          if (a > bestA) {
            bestA = a;
            best = i;
          }
          if (truth) {
            truth.f.push(i);
            truth.v.push(a);
          }
          count++;
        }
      }
      for (let j = 0; j < d; j++) x[row + j] += noiseSd * r.normal();
      ids[idOff + t] = docStart ? SYNTHETIC_BOS : best < 0 ? NONE : FIRST_FEATURE_ID + best;
      if (truth) truth.counts.push(count);
    }
  };

  const check = (indices: number[]) => {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= cfg.numSequences)
        throw new RangeError(`synthetic sequence ${i} out of 0..${cfg.numSequences - 1}`);
    }
  };

  const tokenText = (id: number): string =>
    id === SYNTHETIC_BOS
      ? '<bos>'
      : id === NONE
        ? '·'
        : id >= FIRST_FEATURE_ID && id < FIRST_FEATURE_ID + F
          ? `f${id - FIRST_FEATURE_ID}`
          : String(id);

  return {
    name: `synthetic (seed ${cfg.seed}, d ${d}, F ${F})`,
    numSequences: cfg.numSequences,
    seqLen: T,
    d,
    dtype: 'float32',
    hasTokenIds: true,
    config: cfg,
    trueDictionary: dict,
    F,
    persistence,
    pOn,
    magnitude,
    async readSequences(indices) {
      check(indices);
      const x = new Float32Array(indices.length * T * d);
      const tokenIds = new Int32Array(indices.length * T);
      indices.forEach((s, k) => generate(s, x, k * T * d, tokenIds, k * T));
      return { x, tokenIds };
    },
    truth(indices) {
      check(indices);
      const acc = { f: [] as number[], v: [] as number[], counts: [] as number[] };
      const scratch = new Float32Array(T * d);
      const ids = new Int32Array(T);
      for (const s of indices) {
        scratch.fill(0);
        generate(s, scratch, 0, ids, 0, acc);
      }
      const offsets = new Int32Array(acc.counts.length + 1);
      for (let n = 0; n < acc.counts.length; n++) offsets[n + 1] = offsets[n] + acc.counts[n];
      return { offsets, features: Int32Array.from(acc.f), values: Float32Array.from(acc.v) };
    },
    tokenText,
    vocabulary: () => Array.from({ length: F + FIRST_FEATURE_ID }, (_, i) => tokenText(i)),
  };
}
