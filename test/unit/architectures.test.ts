// The architecture registry (src/sae/architectures): each description is complete and consistent, and
// the places that read it (validation, init, config form, SAELens cfg.json, loss terms) behave as each
// architecture's maths says.
import { describe, expect, it } from 'vitest';
import { buildCfgJson, parseCfgJson } from '../../src/io/saelensCfg';
import { ARCHITECTURE_IDS, ARCHITECTURES, architectureOf, isArchitecture } from '../../src/sae/architectures';
import { DEFAULT_CONFIG, validateConfig, type TrainConfig } from '../../src/sae/config';
import { trainedParams } from '../../src/sae/gpu/layout';
import { initWeights } from '../../src/sae/init';
import { FIELD_GROUPS } from '../../src/ui/train/configFields';

const cfgOf = (architecture: TrainConfig['architecture'], extra: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_CONFIG,
  architecture,
  d_in: 4,
  d_sae: 16,
  k: 2,
  ...extra,
});

describe('architecture registry', () => {
  it('lists relu, topk, jumprelu, batchtopk, matryoshka_batchtopk, tsae, each under its own id', () => {
    expect(ARCHITECTURE_IDS).toEqual([
      'relu',
      'topk',
      'jumprelu',
      'batchtopk',
      'matryoshka_batchtopk',
      'tsae',
    ]);
    for (const id of ARCHITECTURE_IDS) expect(ARCHITECTURES[id].id).toBe(id);
    expect(isArchitecture('topk')).toBe(true);
    expect(isArchitecture('toString')).toBe(false);
    expect(() => architectureOf({ architecture: 'gated' as never })).toThrow(/unknown architecture 'gated'/);
  });

  it('names only real TrainConfig keys', () => {
    for (const id of ARCHITECTURE_IDS)
      for (const key of ARCHITECTURES[id].configKeys) expect(Object.keys(DEFAULT_CONFIG)).toContain(key);
  });

  it('loss terms: L1 for ReLU, L0 for JumpReLU, none for TopK unless AuxK is on', () => {
    expect(
      architectureOf('relu')
        .lossTerms(cfgOf('relu'))
        .map((t) => t.id),
    ).toEqual(['sparse']);
    expect(architectureOf('jumprelu').lossTerms(cfgOf('jumprelu'))).toMatchObject([
      { id: 'sparse', kind: 'L0' },
    ]);
    const topk = architectureOf('topk');
    expect(topk.lossTerms(cfgOf('topk', { aux_k_coefficient: 0 }))).toEqual([]);
    expect(topk.lossTerms(cfgOf('topk', { aux_k_coefficient: 0.1, aux_k: 4 })).map((t) => t.id)).toEqual([
      'aux',
    ]);
    // The GPU runs AuxK exactly when the term is in the loss.
    for (const c of [0, 0.1]) {
      const cfg = cfgOf('topk', { aux_k_coefficient: c, aux_k: 4 });
      expect(topk.gpu.auxk(cfg)).toBe(topk.lossTerms(cfg).length > 0);
    }
  });

  it('validation: TopK checks k against d_sae; an unknown architecture is refused in words', () => {
    expect(validateConfig(cfgOf('topk', { k: 17 }))).toEqual(['k must be an integer in 1..d_sae (got 17)']);
    expect(validateConfig(cfgOf('batchtopk', { k: 17 }))).toEqual([
      'k must be an integer in 1..d_sae (got 17)',
    ]);
    expect(validateConfig(cfgOf('relu', { k: 17 }))).toEqual([]);
    expect(validateConfig(cfgOf('batchtopk', { topk_threshold_lr: 0 }))).toEqual([
      'topk_threshold_lr must be in (0, 1] (got 0)',
    ]);
    expect(validateConfig(cfgOf('nope' as never))).toEqual([
      'architecture must be one of relu, topk, jumprelu, batchtopk, matryoshka_batchtopk, tsae (got nope)',
    ]);
  });

  it('extra parameters: JumpReLU trains log θ, initialised to log θ₀; the others do not have one', () => {
    const batch = {
      S: 1,
      T: 2,
      d: 4,
      x: new Float32Array(8),
      start: new Uint8Array(2),
      valid: new Uint8Array(2),
      seqIndex: new Int32Array(1),
    };
    const jr = initWeights(cfgOf('jumprelu', { jumprelu_init_threshold: 0.25 }), batch);
    expect(Array.from(jr.log_threshold!)).toEqual(new Array(16).fill(Math.fround(Math.log(0.25))));
    expect(initWeights(cfgOf('relu'), batch).log_threshold).toBeUndefined();
    expect(trainedParams(cfgOf('jumprelu'))).toEqual(['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold']);
    expect(trainedParams(cfgOf('topk'))).toEqual(['W_enc', 'b_enc', 'W_dec', 'b_dec']);
  });

  it('the config form shows an architecture-specific field exactly for the architectures that read it', () => {
    const fields = FIELD_GROUPS.flatMap((g) => g.fields);
    const shown = (id: TrainConfig['architecture'], key: keyof TrainConfig) => {
      const f = fields.find((x) => x.key === key)!;
      return f.applies ? f.applies(cfgOf(id)) : true;
    };
    for (const id of ARCHITECTURE_IDS) {
      for (const key of ['k', 'aux_k', 'aux_k_coefficient', 'jumprelu_bandwidth', 'l1_coefficient'] as const)
        expect([id, key, shown(id, key)]).toEqual([id, key, ARCHITECTURES[id].configKeys.includes(key)]);
    }
    const arch = fields.find((f) => f.key === 'architecture')!;
    expect(arch.kind.type === 'select' && arch.kind.options.map((o) => o.value)).toEqual(ARCHITECTURE_IDS);
  });

  it('SAELens cfg.json: each architecture round-trips through its SAELens name (TopK with its k)', () => {
    const names: string[] = [];
    for (const id of ARCHITECTURE_IDS) {
      const cfg = cfgOf(id, { k: 3 });
      const json = buildCfgJson({ config: cfg, scaling_factor: 1, steps: 0, tokens_seen: 0 });
      names.push(String(json.architecture));
      const back = parseCfgJson(JSON.stringify(json), 'cfg.json');
      // The BatchTopK family (BatchTopK, Matryoshka, T-SAE) is saved as the JumpReLU it is at inference
      // (SAELens); TempoSAE's metadata keeps its id.
      const jumpRelu = architectureOf(id).gpu.activation === 'batchtopk';
      expect(back.architecture).toBe(jumpRelu ? 'jumprelu' : id);
      expect(back.temposae!.config.architecture).toBe(id);
      expect(back.k).toBe(id === 'topk' ? 3 : null);
      expect(back.temposae!.config.k).toBe(3);
    }
    expect(names).toEqual(['standard', 'topk', 'jumprelu', 'jumprelu', 'jumprelu', 'jumprelu']);
    expect(() =>
      parseCfgJson(JSON.stringify({ architecture: 'gated', d_in: 4, d_sae: 8 }), 'cfg.json'),
    ).toThrow(/not one TempoSAE runs; supported: standard \(ReLU\), topk \(TopK\), jumprelu \(JumpReLU\)/);
  });
});
