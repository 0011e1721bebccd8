// BatchTopK's inference threshold θ (SaeWeights.topk_threshold) through the files: the SAELens export
// writes a JumpReLU with threshold = θ for every feature (as SAELens saves BatchTopKTrainingSAE), the
// import reads a TempoSAE BatchTopK folder back with its one θ and refuses thresholds that differ or are
// negative, naming the file; a checkpoint stores θ as the tensor topk_threshold [1] and reads it back,
// and a checkpoint without it (another architecture's, an older file) has none.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng';
import { parseCheckpoint, serializeCheckpoint } from '../../../src/io/checkpoint';
import { buildSaeFolder, WEIGHTS_FILE } from '../../../src/io/exportSae';
import { importSaeFolder } from '../../../src/io/importSae';
import { readSafetensors, tensorToFloat32, writeSafetensors } from '../../../src/io/safetensors';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/sae/config';
import type { SaeWeights } from '../../../src/sae/types';

const d = 3,
  m = 5;
const config: TrainConfig = { ...DEFAULT_CONFIG, architecture: 'batchtopk', d_in: d, d_sae: m, k: 2 };

function weights(theta: number): SaeWeights {
  const r = new Rng(9);
  const a = (n: number) => new Float32Array(n).map(() => r.normal());
  return {
    d_in: d,
    d_sae: m,
    W_enc: a(d * m),
    b_enc: a(m),
    W_dec: a(m * d),
    b_dec: a(d),
    topk_threshold: theta,
  };
}

const folder = (w: SaeWeights, s = 1) =>
  buildSaeFolder({ weights: w, config, scaling_factor: s, density: null, steps: 7, tokens_seen: 70 });

/** The folder with its weights file's threshold tensor replaced. */
function withThreshold(files: Map<string, Uint8Array>, th: number[]): Map<string, Uint8Array> {
  const sf = readSafetensors(files.get(WEIGHTS_FILE)!, WEIGHTS_FILE);
  const t: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [k, v] of sf.tensors) t[k] = { data: tensorToFloat32(v, k, WEIGHTS_FILE), shape: v.shape };
  t.threshold = { data: Float32Array.from(th), shape: [m] };
  return new Map([...files, [WEIGHTS_FILE, writeSafetensors(t, { format: 'pt' })]]);
}

describe('BatchTopK θ in SAE folders', () => {
  it('exports a SAELens JumpReLU with threshold θ·1 and imports back as BatchTopK with θ', () => {
    const w = weights(0.8125);
    const files = folder(w, 2); // input scaling folded: θ compares pre-activations, which do not change
    const sf = readSafetensors(files.get(WEIGHTS_FILE)!, WEIGHTS_FILE);
    expect(Array.from(tensorToFloat32(sf.tensors.get('threshold')!, 'threshold', WEIGHTS_FILE))).toEqual(
      new Array(m).fill(0.8125),
    );
    expect(JSON.parse(new TextDecoder().decode(files.get('cfg.json'))).architecture).toBe('jumprelu');
    const imp = importSaeFolder(files, 'btk');
    expect(imp.config.architecture).toBe('batchtopk');
    expect(imp.weights.topk_threshold).toBe(0.8125);
    expect(imp.weights.log_threshold).toBeUndefined();
    expect(imp.scaling_factor).toBe(2);
    // θ = 0 (a run exported before its first step) is valid: a plain ReLU at inference.
    expect(importSaeFolder(folder(weights(0)), 'btk0').weights.topk_threshold).toBe(0);
  });

  it('refuses thresholds that differ between features or are negative, naming the file', () => {
    const files = folder(weights(0.5));
    expect(() => importSaeFolder(withThreshold(files, [0.5, 0.5, 0.25, 0.5, 0.5]), 'bad')).toThrow(
      /bad\/sae_weights\.safetensors.*one threshold for every feature, but threshold\[0\] = 0\.5 and threshold\[2\] = 0\.25/,
    );
    expect(() => importSaeFolder(withThreshold(files, new Array(m).fill(-1)), 'neg')).toThrow(
      /neg\/sae_weights\.safetensors.*threshold -1 is negative/,
    );
    expect(() =>
      buildSaeFolder({
        ...{ weights: { ...weights(1), topk_threshold: undefined } },
        config,
        scaling_factor: 1,
        density: null,
        steps: 0,
        tokens_seen: 0,
      }),
    ).toThrow(/needs its inference threshold/);
  });

  it('checkpoints hold θ as the tensor topk_threshold [1]', () => {
    const w = weights(0.3);
    const z = () => ({
      W_enc: new Float32Array(d * m),
      b_enc: new Float32Array(m),
      W_dec: new Float32Array(m * d),
      b_dec: new Float32Array(d),
    });
    const trainer = {
      step: 4,
      tokens_seen: 40,
      weights: w,
      adam: { step: 4, m: z(), v: z() },
      alpha: { l_max: 1.5 },
      tokens_since_fired: new Float32Array(m),
    };
    const base = { config, data_state: null, scaling_factor: 1, created_at: '' };
    const bytes = serializeCheckpoint({ ...base, trainer });
    const sf = readSafetensors(bytes, 'ck');
    expect(sf.tensors.get('topk_threshold')!.shape).toEqual([1]);
    expect(parseCheckpoint(bytes, 'ck').trainer.weights.topk_threshold).toBe(Math.fround(0.3));
    const none = serializeCheckpoint({
      ...base,
      trainer: { ...trainer, weights: { ...w, topk_threshold: undefined } },
    });
    expect(parseCheckpoint(none, 'ck').trainer.weights.topk_threshold).toBeUndefined();
  });
});
