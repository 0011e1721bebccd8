// The architecture registry: one ArchitectureSpec per SAE architecture (types.ts says what each field
// means), as SAELens has one class per architecture. Code that differs between architectures reads the
// spec (`architectureOf(cfg).gpu.activation`, `.extraParams`, `.lossTerms(cfg)`, …), never the name.
//
// HOW TO ADD AN ARCHITECTURE (e.g. BatchTopK, Matryoshka, T-SAE)
//  1. src/sae/config.ts: add its id to `Architecture` and any new hyperparameters to TrainConfig (SAELens
//     names, a comment each, a default in DEFAULT_CONFIG; general checks in validateConfig).
//  2. src/sae/architectures/<id>.ts: export an ArchitectureSpec (copy the nearest of relu.ts, topk.ts,
//     jumprelu.ts); add it to ARCHITECTURES below. TypeScript then refuses to build until every field
//     is filled. `configKeys` makes the config form show its fields (add their FieldSpecs to
//     src/ui/train/configFields.ts); `lossTerms` drives the loss formula, the loss chart and the metrics;
//     `extraParams` drives Adam, checkpoints, init and export (a new kind of parameter: add it to
//     EXTRA_PARAMS in types.ts: buffers, Adam and fault bits follow from PARAM_NAMES in src/sae/gpu/layout.ts); `saelens` its cfg.json names.
//  3. GPU: if it reuses existing kernels, the recipe fields are all there is to it. A new kernel goes in
//     shaders/<name>.wgsl (header: formula, bindings, CPU twin) with a CPU twin in src/sae/twins/ and a
//     parity test in test/gpu/; add a value to the GpuRecipe field it varies (e.g. activation:
//     'batchtopk') and handle it in the stage builder that records that stage (src/sae/gpu/passes/:
//     activation.ts for f = act(pre), losses.ts for loss terms, backward.ts for gradients). A new loss
//     term adds a LossTerm kind, a metrics slot (METRIC in layout.ts, finalize.wgsl) and its chart line.
//  4. The float64 reference (src/sae/reference/) is deliberately independent of this registry (it is the
//     oracle the GPU trainer is checked against): add the architecture's maths there by hand, then run
//     test/gpu/trainerStep.test.ts and trainerRun.test.ts with it (src/sae/parityCheck.ts and the
//     in-page parity check loop over ARCHITECTURE_IDS, so they take it up by themselves).
import type { Architecture, TrainConfig } from '../config';
import type { SaeWeights } from '../types';
import { batchtopk } from './batchtopk';
import { jumprelu } from './jumprelu';
import { matryoshka } from './matryoshka';
import { relu } from './relu';
import { topk } from './topk';
import { tsae } from './tsae';
import type { ArchitectureSpec } from './types';

export { EXTRA_PARAMS, type ArchitectureSpec, type ExtraParam, type GpuRecipe, type LossTerm } from './types';

/** Every architecture, by id. `Record<Architecture, …>` makes a missing entry a type error. */
export const ARCHITECTURES: Readonly<Record<Architecture, ArchitectureSpec>> = {
  relu,
  topk,
  jumprelu,
  batchtopk,
  matryoshka_batchtopk: matryoshka,
  tsae,
};

/** Architecture ids in the order the config form lists them. */
export const ARCHITECTURE_IDS = Object.keys(ARCHITECTURES) as Architecture[];

export function isArchitecture(v: unknown): v is Architecture {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(ARCHITECTURES, v);
}

/** The spec of a config's architecture (or of an id). Throws on an unknown id, naming the known ones. */
export function architectureOf(c: Pick<TrainConfig, 'architecture'> | Architecture): ArchitectureSpec {
  const id = typeof c === 'string' ? c : c.architecture;
  if (!isArchitecture(id))
    throw new Error(`unknown architecture '${String(id)}' (known: ${ARCHITECTURE_IDS.join(', ')})`);
  return ARCHITECTURES[id];
}

/** The architecture whose SAELens v6 cfg.json `architecture` is `name`, if any. */
export function architectureFromSaelens(name: string): ArchitectureSpec | undefined {
  return ARCHITECTURE_IDS.map((id) => ARCHITECTURES[id]).find((a) => a.saelens.architecture === name);
}

/**
 * The prefix ends an evaluation reports explained variance for (src/analysis/literature.ts, SPEC §11 "per
 * Matryoshka prefix"): the architecture's Matryoshka prefixes, or undefined for one without.
 */
export function evalPrefixes(c: TrainConfig): number[] | undefined {
  return architectureOf(c).gpu.matryoshka?.(c)?.ends;
}

/**
 * evaluateHeldOut's options for the per-prefix explained variance: the prefixes, and the decoder read
 * when the evaluation starts (the weights the other metrics are of); {} for other architectures.
 */
export function prefixEvalOptions(
  c: TrainConfig,
  weights: () => Promise<Pick<SaeWeights, 'd_in' | 'd_sae' | 'W_dec' | 'b_dec'>>,
): { prefixes?: number[]; decoder?: () => Promise<Pick<SaeWeights, 'd_in' | 'd_sae' | 'W_dec' | 'b_dec'>> } {
  const prefixes = evalPrefixes(c);
  return prefixes ? { prefixes, decoder: weights } : {};
}
