// The Matryoshka BatchTopK and T-SAE registry entries (src/sae/architectures/matryoshka.ts, tsae.ts):
// prefixes and weights as the kernels take them, validation in words, loss terms, the config form's
// fields, the SAELens cfg.json round trip, and the configs the method kernels refuse. The float64
// reference writes the prefixes out on its own (src/sae/reference/methods.ts methodConfigFromTrain):
// both must agree.
import { describe, expect, it } from 'vitest';
import { buildCfgJson, parseCfgJson } from '../../src/io/saelensCfg';
import { architectureOf } from '../../src/sae/architectures';
import { DEFAULT_CONFIG, validateConfig, type TrainConfig } from '../../src/sae/config';
import { planChunks } from '../../src/sae/gpu/chunks';
import { finalizeConstants, methodChunkRefusal } from '../../src/sae/gpu/passes/methods';
import { methodConfigFromTrain } from '../../src/sae/reference/methods';
import { FIELD_GROUPS, parseField } from '../../src/ui/train/configFields';

const cfgOf = (architecture: TrainConfig['architecture'], o: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_CONFIG,
  architecture,
  d_in: 4,
  d_sae: 40,
  k: 2,
  ...o,
});

describe('Matryoshka prefixes and weights', () => {
  it('defaults: d_sae/8, /4, /2, d_sae with weight 1 each (SAELens sums the prefix losses)', () => {
    const plan = architectureOf('matryoshka_batchtopk').gpu.matryoshka!(cfgOf('matryoshka_batchtopk'))!;
    expect(plan.ends).toEqual([5, 10, 20, 40]);
    // The kernels' w_g of (1/G)·Σ w_g·L_g: G·c_g.
    expect(plan.weights).toEqual([4, 4, 4, 4]);
  });

  it('T-SAE: a 20 % high-level prefix, weights 0.1, 0.4 (its code’s [0.2, 0.8] under a mean over 2)', () => {
    const c = cfgOf('tsae');
    const a = architectureOf('tsae');
    expect(a.gpu.matryoshka!(c)).toEqual({ ends: [8, 40], weights: [0.2, 0.8] });
    expect(a.gpu.contrastive!(c)).toEqual({ H: 8, coefficient: 0.1, temperature: 1, cosine: true });
    expect(a.gpu.contrastive!(cfgOf('tsae', { contrastive_coefficient: 0 }))).toBeNull();
  });

  it('widths that stop short of d_sae get d_sae appended, as SAELens does', () => {
    const plan = architectureOf('matryoshka_batchtopk').gpu.matryoshka!(
      cfgOf('matryoshka_batchtopk', { matryoshka_widths: [3, 17], matryoshka_weights: [0.5, 0.25, 0.25] }),
    )!;
    expect(plan).toEqual({ ends: [3, 17, 40], weights: [1.5, 0.75, 0.75] });
  });

  it('the float64 reference writes the same prefixes and weights on its own', () => {
    for (const c of [
      cfgOf('matryoshka_batchtopk'),
      cfgOf('matryoshka_batchtopk', { matryoshka_widths: [7], matryoshka_weights: [0.7, 0.2] }),
      cfgOf('tsae'),
      cfgOf('tsae', { d_sae: 64, matryoshka_widths: [6, 20] }),
    ]) {
      const plan = architectureOf(c).gpu.matryoshka!(c)!;
      const mc = methodConfigFromTrain(c)!;
      expect([mc.prefix_ends, mc.prefix_weights]).toEqual([plan.ends, plan.weights]);
      expect(mc.contrastive_coefficient).toBe(c.architecture === 'tsae' ? c.contrastive_coefficient : 0);
    }
  });

  it('finalize.wgsl gets G and c_g = w_g/G (the config’s weights), and the contrastive coefficient', () => {
    expect(finalizeConstants(cfgOf('tsae'))).toEqual({ MAT_G: 2, MAT_C0: 0.1, MAT_C1: 0.4, NCE_COEF: 0.1 });
    expect(finalizeConstants(cfgOf('topk'))).toEqual({ MAT_G: 0, NCE_COEF: 0 });
  });
});

describe('validation in words', () => {
  const problems = (c: TrainConfig) => validateConfig(c);
  it('accepts the defaults', () => {
    expect(problems(cfgOf('matryoshka_batchtopk'))).toEqual([]);
    expect(problems(cfgOf('tsae'))).toEqual([]);
  });
  it('widths must increase strictly and stay within d_sae', () => {
    expect(problems(cfgOf('matryoshka_batchtopk', { matryoshka_widths: [10, 10] }))).toEqual([
      'matryoshka_widths must be strictly increasing integers in 1..d_sae = 40 (got 10, 10)',
    ]);
    expect(problems(cfgOf('matryoshka_batchtopk', { matryoshka_widths: [50] }))[0]).toMatch(
      /matryoshka_widths must be strictly increasing integers in 1\.\.d_sae = 40 \(got 50\)/,
    );
  });
  it('at most 8 prefixes (the kernels’ struct Mat)', () => {
    expect(problems(cfgOf('matryoshka_batchtopk', { matryoshka_widths: [1, 2, 3, 4, 5, 6, 7, 8] }))).toEqual([
      'matryoshka_widths gives 9 prefixes; the kernels take at most 8',
    ]);
  });
  it('one weight per prefix, finite, ≥ 0, not all 0', () => {
    expect(problems(cfgOf('matryoshka_batchtopk', { matryoshka_weights: [1, 1] }))).toEqual([
      'matryoshka_weights has 2 values but there are 4 prefixes (5, 10, 20, 40); give one weight per prefix or none',
    ]);
    expect(problems(cfgOf('tsae', { matryoshka_weights: [0, 0] }))).toEqual([
      'matryoshka_weights must be finite numbers ≥ 0, not all 0 (got 0, 0)',
    ]);
  });
  it('squared errors only; a tiny dictionary without explicit widths is refused with a way out', () => {
    expect(problems(cfgOf('tsae', { recon_loss: 'norm' }))).toEqual([
      "the Matryoshka losses are squared errors: recon_loss must be 'squared' (got 'norm')",
    ]);
    expect(problems(cfgOf('matryoshka_batchtopk', { d_sae: 4, k: 1 }))).toEqual([
      'd_sae = 4 is too small for the default prefixes (0, 1, 2, 4); set matryoshka_widths',
    ]);
  });
  it('T-SAE: a high-level prefix below d_sae, τ > 0, a known similarity', () => {
    expect(problems(cfgOf('tsae', { matryoshka_widths: [40] }))).toEqual([
      "T-SAE needs a high-level prefix smaller than d_sae: matryoshka_widths' first width (got 40) must be < 40",
    ]);
    expect(problems(cfgOf('tsae', { contrastive_temperature: 0 }))).toEqual([
      'contrastive_temperature must be a finite number > 0 (got 0)',
    ]);
    expect(problems(cfgOf('tsae', { contrastive_similarity: 'l2' as never }))).toEqual([
      "contrastive_similarity must be 'cosine' or 'dot' (got 'l2')",
    ]);
    expect(problems(cfgOf('tsae', { contrastive_coefficient: -1 }))).toEqual([
      'contrastive_coefficient must be a finite number ≥ 0 (got -1)',
    ]);
  });
});

describe('loss terms, form fields, SAELens names', () => {
  it('L_mat for both; T-SAE adds the contrastive term while its coefficient is > 0', () => {
    const ids = (c: TrainConfig) =>
      architectureOf(c)
        .lossTerms(c)
        .map((t) => t.id);
    expect(ids(cfgOf('matryoshka_batchtopk'))).toEqual(['matryoshka']);
    expect(ids(cfgOf('tsae'))).toEqual(['matryoshka', 'contrastive']);
    expect(ids(cfgOf('tsae', { contrastive_coefficient: 0 }))).toEqual(['matryoshka']);
  });

  it('the config form shows the prefix fields for both and the contrastive ones for T-SAE only', () => {
    const fields = FIELD_GROUPS.flatMap((g) => g.fields);
    const shown = (id: TrainConfig['architecture'], key: keyof TrainConfig) =>
      fields.find((f) => f.key === key)!.applies!(cfgOf(id));
    for (const key of ['matryoshka_widths', 'matryoshka_weights', 'k'] as const) {
      expect(shown('matryoshka_batchtopk', key)).toBe(true);
      expect(shown('tsae', key)).toBe(true);
      expect(shown('relu', key)).toBe(false);
    }
    for (const key of [
      'contrastive_coefficient',
      'contrastive_temperature',
      'contrastive_similarity',
    ] as const) {
      expect(shown('tsae', key)).toBe(true);
      expect(shown('matryoshka_batchtopk', key)).toBe(false);
    }
    const widths = fields.find((f) => f.key === 'matryoshka_widths')!;
    expect(parseField(widths, '8, 16')).toEqual({ value: [8, 16] });
    expect(parseField(widths, '')).toEqual({ value: [] });
    expect(parseField(widths, '8, 0.5')).toEqual({ error: 'comma-separated whole numbers ≥ 1' });
    const weights = fields.find((f) => f.key === 'matryoshka_weights')!;
    expect(parseField(weights, '0.1, 0.4')).toEqual({ value: [0.1, 0.4] });
    expect(parseField(weights, '0.1, x')).toEqual({ error: 'comma-separated numbers ≥ 0' });
  });

  it('saved for inference as SAELens saves them (a JumpReLU); the run’s settings stay in the metadata', () => {
    for (const id of ['matryoshka_batchtopk', 'tsae'] as const) {
      const cfg = cfgOf(id, { matryoshka_widths: [6] });
      const json = buildCfgJson({ config: cfg, scaling_factor: 1, steps: 0, tokens_seen: 0 });
      expect(json.architecture).toBe('jumprelu');
      const back = parseCfgJson(JSON.stringify(json), 'cfg.json');
      expect(back.temposae!.config.architecture).toBe(id);
      expect(back.temposae!.config.matryoshka_widths).toEqual([6]);
    }
  });
});

describe('configs the method kernels refuse', () => {
  it('a batch or dictionary split into blocks by the binding limit, with the sizes', () => {
    const c = cfgOf('tsae', { d_in: 16, d_sae: 64, seqs_per_batch: 4, context_size: 8 });
    const whole = planChunks(c, 1 << 20);
    expect('error' in whole).toBe(false);
    if (!('error' in whole)) expect(methodChunkRefusal(c, whole)).toBeNull();
    const split = planChunks(c, 8 * 64 * 4 * 2); // two sequences of f per block
    if ('error' in split) throw new Error(split.error);
    expect(split.rowBlocks.length).toBe(2);
    expect(methodChunkRefusal(c, split)).toBe(
      'T-SAE: the Matryoshka loss kernels read the batch’s f ([32, 64], 8192 bytes) and W_dec ([64, 16], ' +
        '4096 bytes) as one buffer each, but the adapter’s binding limit splits them into 2 row block(s) ' +
        'and 1 feature block(s). Reduce seqs_per_batch × context_size or d_sae.',
    );
    expect(methodChunkRefusal(cfgOf('topk'), split)).toBeNull();
  });
});
