// Export → import round trips, SAELens v6 cfg fields, input-scaling folding, pre-6 and sparsify imports.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng';
import { DEFAULT_CONFIG, type Architecture, type TrainConfig } from '../../../src/sae/config';
import type { SaeWeights } from '../../../src/sae/types';
import {
  buildSaeFolder,
  importSaeFolder,
  readSafetensors,
  SaeFileError,
  tensorToFloat32,
  trainingInitFromImport,
  unzipFolder,
  writeSafetensors,
  zipFolder,
  type MetricHistory,
} from '../../../src/io';

const d = 6;
const m = 10;

function randomWeights(seed: number, arch: Architecture): SaeWeights {
  const r = new Rng(seed);
  const w: SaeWeights = {
    d_in: d,
    d_sae: m,
    W_enc: new Float32Array(d * m).map(() => r.normal()),
    b_enc: new Float32Array(m).map(() => 0.1 * r.normal()),
    W_dec: new Float32Array(m * d),
    b_dec: new Float32Array(d).map(() => r.normal()),
  };
  for (let i = 0; i < m; i++) {
    let ss = 0;
    const row = Array.from({ length: d }, () => r.normal());
    row.forEach((v) => (ss += v * v));
    row.forEach((v, j) => (w.W_dec[i * d + j] = v / Math.sqrt(ss)));
  }
  if (arch === 'jumprelu') w.log_threshold = new Float32Array(m).map(() => Math.log(0.05 + 0.2 * r.next()));
  return w;
}

/** SPEC §3 forward in float64: returns f and x̂ for one token. */
function forward(w: SaeWeights, x: number[], arch: Architecture, k: number): { f: number[]; xhat: number[] } {
  const pre = Array.from({ length: w.d_sae }, (_, i) => {
    let s = w.b_enc[i];
    for (let j = 0; j < w.d_in; j++) s += (x[j] - w.b_dec[j]) * w.W_enc[j * w.d_sae + i];
    return s;
  });
  let f: number[];
  if (arch === 'relu') f = pre.map((p) => Math.max(p, 0));
  else if (arch === 'jumprelu') f = pre.map((p, i) => (p > Math.exp(w.log_threshold![i]) ? p : 0));
  else {
    const order = pre.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const keep = new Set(order.slice(0, k).map((o) => o[1]));
    f = pre.map((p, i) => (keep.has(i) && p > 0 ? p : 0));
  }
  const xhat = Array.from({ length: w.d_in }, (_, j) => {
    let s = w.b_dec[j];
    for (let i = 0; i < w.d_sae; i++) s += f[i] * w.W_dec[i * w.d_in + j];
    return s;
  });
  return { f, xhat };
}

function cfgFor(arch: Architecture): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    architecture: arch,
    d_in: d,
    d_sae: m,
    k: 3,
    temporal_coefficient: 0.03,
    seed: 7,
  };
}

/** An export with no scaling, no density and no history. */
function plainExport(w: SaeWeights, arch: Architecture) {
  return buildSaeFolder({
    weights: w,
    config: cfgFor(arch),
    scaling_factor: 1,
    density: null,
    steps: 1,
    tokens_seen: 1,
  });
}

const history: MetricHistory = {
  train: [
    { step: 10, tokens_seen: 20480, l_recon: 1.25, l_temp: 0.125, alpha: 0.5, l_max: 1.25 },
    { step: 20, tokens_seen: 40960, l_recon: 0.75, l_temp: 0.0625, alpha: 0.73, l_max: 1.2 },
  ],
  eval: [{ step: 20, explained_variance: 0.9, l0: 12.5, tv_ratio: 0.3125, mse: NaN }],
};

function expectSame(a: Float32Array | undefined, b: Float32Array | undefined) {
  expect(a).toBeDefined();
  expect(Array.from(a!)).toEqual(Array.from(b!));
}

describe('export → import round trip', () => {
  for (const arch of ['relu', 'topk', 'jumprelu'] as Architecture[]) {
    it(`${arch}: identical weights, config, history and sparsity (no input scaling)`, () => {
      const w = randomWeights(1, arch);
      const density = new Float32Array(m).map((_, i) => (i === 0 ? 0 : i / 100));
      const files = buildSaeFolder({
        weights: w,
        config: cfgFor(arch),
        scaling_factor: 1,
        density,
        steps: 20,
        tokens_seen: 40960,
        run_name: 'run A',
        provenance: { model_name: 'gpt2', hook_name: 'blocks.8.hook_resid_pre' },
        history,
      });
      // Through a zip as the app downloads it.
      const imp = importSaeFolder(unzipFolder(zipFolder(files, 'run-a'), 'run-a.zip'), 'run-a.zip');
      expect(imp.format).toBe('temposae');
      expect(imp.name).toBe('run A');
      expectSame(imp.weights.W_enc, w.W_enc);
      expectSame(imp.weights.b_enc, w.b_enc);
      expectSame(imp.weights.W_dec, w.W_dec);
      expectSame(imp.weights.b_dec, w.b_dec);
      if (arch === 'jumprelu')
        // threshold = exp(log θ) in the file and log again on import: equal to float32 rounding.
        imp.weights.log_threshold!.forEach((v, i) => expect(v).toBeCloseTo(w.log_threshold![i], 6));
      expect(imp.config).toEqual(cfgFor(arch));
      expect(imp.steps).toBe(20);
      expect(imp.tokens_seen).toBe(40960);
      expect(imp.provenance.hook_name).toBe('blocks.8.hook_resid_pre');
      expect(imp.history!.train).toEqual(history.train);
      expect(imp.history!.eval[0].explained_variance).toBe(0.9);
      expect(imp.history!.eval[0].mse).toBeNaN();
      expect(imp.sparsity![0]).toBeCloseTo(-10, 5);
      expect(imp.sparsity![5]).toBeCloseTo(Math.log10(0.05 + 1e-10), 6);
      expect(imp.warnings).toEqual([]);
    });
  }

  it('cfg.json has the fields SAELens v6 reads, hyperparameters in metadata', () => {
    const files = buildSaeFolder({
      weights: randomWeights(2, 'topk'),
      config: cfgFor('topk'),
      scaling_factor: 1,
      density: null,
      steps: 1,
      tokens_seen: 2048,
    });
    const cfg = JSON.parse(new TextDecoder().decode(files.get('cfg.json')!));
    for (const key of [
      'architecture',
      'd_in',
      'd_sae',
      'dtype',
      'device',
      'apply_b_dec_to_input',
      'normalize_activations',
      'reshape_activations',
      'metadata',
    ])
      expect(cfg).toHaveProperty(key);
    expect(cfg).toMatchObject({
      architecture: 'topk',
      k: 3,
      d_in: d,
      d_sae: m,
      dtype: 'float32',
      normalize_activations: 'none',
    });
    // SAELens treats a config as v6 only if metadata.sae_lens_version ≥ 6.0.0.
    expect(parseInt(cfg.metadata.sae_lens_version, 10)).toBeGreaterThanOrEqual(6);
    for (const key of [
      'model_name',
      'hook_name',
      'hook_head_index',
      'prepend_bos',
      'context_size',
      'dataset_path',
    ])
      expect(cfg.metadata).toHaveProperty(key);
    for (const key of Object.keys(DEFAULT_CONFIG).filter(
      (k) => !['d_in', 'd_sae', 'architecture'].includes(k),
    ))
      expect(cfg.metadata).toHaveProperty(key);
    expect(cfg.metadata.temporal_coefficient).toBe(0.03);
    expect(files.has('sparsity.safetensors')).toBe(false); // no density known → no file rather than a fake one
    // Weights file: the SAELens tensor names and shapes, F32.
    const st = readSafetensors(files.get('sae_weights.safetensors')!, 'w');
    expect(Object.fromEntries([...st.tensors].map(([k, t]) => [k, [t.dtype, t.shape]]))).toEqual({
      W_enc: ['F32', [d, m]],
      b_enc: ['F32', [m]],
      W_dec: ['F32', [m, d]],
      b_dec: ['F32', [d]],
    });
  });

  it('JumpReLU exports threshold = exp(log θ)', () => {
    const w = randomWeights(3, 'jumprelu');
    const files = plainExport(w, 'jumprelu');
    const st = readSafetensors(files.get('sae_weights.safetensors')!, 'w');
    const th = tensorToFloat32(st.tensors.get('threshold')!, 'threshold', 'w');
    th.forEach((v, i) => expect(v).toBeCloseTo(Math.exp(w.log_threshold![i]), 7));
  });

  for (const arch of ['relu', 'topk', 'jumprelu'] as Architecture[])
    it(`${arch}: folded input scaling maps raw x like the trained SAE maps s·x; training init unfolds it`, () => {
      const s = 2.75;
      const w = randomWeights(4, arch);
      const cfg = { ...cfgFor(arch), normalize_activations: 'expected_average_only_in' as const };
      const imp = importSaeFolder(
        buildSaeFolder({
          weights: w,
          config: cfg,
          scaling_factor: s,
          density: null,
          steps: 5,
          tokens_seen: 10,
        }),
        'scaled',
      );
      expect(imp.scaling_factor).toBe(s);
      expect(imp.config.normalize_activations).toBe('expected_average_only_in');
      const r = new Rng(9);
      for (let t = 0; t < 5; t++) {
        const x = Array.from({ length: d }, () => 3 * r.normal());
        const trained = forward(
          w,
          x.map((v) => v * s),
          arch,
          3,
        );
        const exported = forward(imp.weights, x, arch, 3);
        // Same features (pre is the same up to float32 rounding of the folded weights) …
        exported.f.forEach((v, i) => expect(v).toBeCloseTo(trained.f[i], 4));
        // … and the reconstruction in raw units is the trained one divided by s.
        exported.xhat.forEach((v, j) => expect(v).toBeCloseTo(trained.xhat[j] / s, 4));
      }
      const init = trainingInitFromImport(imp);
      init.weights.W_enc.forEach((v, i) => expect(v).toBeCloseTo(w.W_enc[i], 5));
      init.weights.b_dec.forEach((v, i) => expect(v).toBeCloseTo(w.b_dec[i], 5));
      expect(init.warnings).toEqual([]);
    });
});

describe('importing other tools’ folders', () => {
  const enc = (o: object) => new TextEncoder().encode(JSON.stringify(o));

  it('SAELens pre-6 TopK with apply_b_dec_to_input = false: same outputs as SAELens computes', () => {
    const w = randomWeights(5, 'relu');
    const files = new Map<string, Uint8Array>([
      [
        'cfg.json',
        enc({
          d_in: d,
          d_sae: m,
          hook_point: 'blocks.3.hook_resid_post',
          model_name: 'pythia-70m',
          activation_fn_str: 'topk',
          activation_fn_kwargs: { k: 4 },
          apply_b_dec_to_input: false,
          normalize_activations: false,
          sae_lens_training_version: '3.13.0',
        }),
      ],
      [
        'sae_weights.safetensors',
        writeSafetensors({
          W_enc: { data: w.W_enc, shape: [d, m] },
          b_enc: { data: w.b_enc, shape: [m] },
          W_dec: { data: w.W_dec, shape: [m, d] },
          b_dec: { data: w.b_dec, shape: [d] },
        }),
      ],
    ]);
    const imp = importSaeFolder(files, 'pre6');
    expect(imp.format).toBe('saelens-pre6');
    expect(imp.config.architecture).toBe('topk');
    expect(imp.config.k).toBe(4);
    expect(imp.provenance.hook_name).toBe('blocks.3.hook_resid_post');
    expect(imp.warnings.join()).toMatch(/apply_b_dec_to_input/);
    // SAELens with apply_b_dec_to_input = false: pre = x·W_enc + b_enc (no b_dec subtraction).
    const noBdec = { ...w, b_dec: new Float32Array(d) };
    const r = new Rng(11);
    for (let t = 0; t < 5; t++) {
      const x = Array.from({ length: d }, () => r.normal());
      const saelens = forward(noBdec, x, 'topk', 4); // pre without b_dec …
      const xhatSaelens = saelens.xhat.map((v, j) => v + w.b_dec[j]); // … decoder adds b_dec
      const ours = forward(imp.weights, x, 'topk', 4);
      ours.f.forEach((v, i) => expect(v).toBeCloseTo(saelens.f[i], 4));
      ours.xhat.forEach((v, j) => expect(v).toBeCloseTo(xhatSaelens[j], 4));
    }
  });

  it('sparsify folder: encoder.weight is W_encᵀ', () => {
    const w = randomWeights(6, 'topk');
    const encT = new Float32Array(m * d);
    for (let j = 0; j < d; j++) for (let i = 0; i < m; i++) encT[i * d + j] = w.W_enc[j * m + i];
    const files = new Map<string, Uint8Array>([
      [
        'layers.6/cfg.json',
        enc({
          activation: 'topk',
          expansion_factor: 32,
          normalize_decoder: true,
          num_latents: m,
          k: 2,
          multi_topk: false,
          skip_connection: false,
          d_in: d,
        }),
      ],
      [
        'layers.6/sae.safetensors',
        writeSafetensors({
          'encoder.weight': { data: encT, shape: [m, d] },
          'encoder.bias': { data: w.b_enc, shape: [m] },
          W_dec: { data: w.W_dec, shape: [m, d] },
          b_dec: { data: w.b_dec, shape: [d] },
        }),
      ],
    ]);
    const imp = importSaeFolder(files, 'layers.6');
    expect(imp.format).toBe('sparsify');
    expect(imp.config).toMatchObject({ architecture: 'topk', k: 2, d_in: d, d_sae: m });
    expectSame(imp.weights.W_enc, w.W_enc);
    expectSame(imp.weights.W_dec, w.W_dec);
  });

  it('refuses with a message naming the file: missing weights, wrong shapes, unknown architectures, several SAEs', () => {
    const bad = (files: Map<string, Uint8Array>, re: RegExp) => {
      expect(() => importSaeFolder(files, 'f')).toThrow(SaeFileError);
      expect(() => importSaeFolder(files, 'f')).toThrow(re);
    };
    bad(new Map([['cfg.json', enc({ d_in: d, d_sae: m })]]), /no sae_weights.safetensors/);
    const good = buildSaeFolder({
      weights: randomWeights(7, 'relu'),
      config: cfgFor('relu'),
      scaling_factor: 1,
      density: null,
      steps: 1,
      tokens_seen: 1,
    });
    const wrongShape = new Map(good);
    wrongShape.set(
      'cfg.json',
      enc({ d_in: d + 1, d_sae: m, architecture: 'standard', metadata: { sae_lens_version: '6.5.0' } }),
    );
    bad(wrongShape, /f\/sae_weights.safetensors: tensor W_enc has shape \[6,10\], expected \[7,10\]/);
    const gated = new Map(good);
    gated.set('cfg.json', enc({ d_in: d, d_sae: m, architecture: 'gated' }));
    bad(gated, /architecture 'gated'/);
    const nan = new Map(good);
    const w = randomWeights(8, 'relu');
    w.b_dec[2] = NaN;
    nan.set('sae_weights.safetensors', plainExport(w, 'relu').get('sae_weights.safetensors')!);
    bad(nan, /b_dec has a non-finite value at index 2/);
    const two = new Map<string, Uint8Array>();
    for (const [k, v] of good) {
      two.set(`a/x/${k}`, v);
      two.set(`a/y/${k}`, v);
    }
    bad(two, /several SAEs; pick one folder: x, y/);
    expect(() => unzipFolder(new Uint8Array([1, 2, 3, 4]), 'junk.zip')).toThrow(
      /junk.zip: not a readable zip/,
    );
  });

  it('training init folds non-unit decoder rows into the encoder without changing outputs (ReLU)', () => {
    const w = randomWeights(10, 'relu');
    for (let i = 0; i < m * d; i++) w.W_dec[i] *= 1 + (Math.floor(i / d) % 3);
    const files = plainExport(w, 'relu');
    const imp = importSaeFolder(files, 'f');
    const init = trainingInitFromImport(imp);
    expect(init.warnings.join()).toMatch(/unit norm/);
    const x = Array.from({ length: d }, (_, j) => j - 2.5);
    const a = forward(w, x, 'relu', 0).xhat;
    const b = forward(init.weights, x, 'relu', 0).xhat;
    b.forEach((v, j) => expect(v).toBeCloseTo(a[j], 4));
  });
});
