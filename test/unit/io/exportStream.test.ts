// streamSaeWeights: sae_weights.safetensors written one parameter at a time is the same file as the
// whole-weights export (buildSaeFolder), input scaling folded, JumpReLU's threshold exponentiated and
// BatchTopK's one θ written for every feature, and it never holds more than one parameter read but not
// yet written.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng';
import { buildSaeFolder, streamSaeWeights, WEIGHTS_FILE } from '../../../src/io/exportSae';
import { readSafetensors, tensorToFloat32 } from '../../../src/io/safetensors';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/sae/config';
import type { SaeWeights } from '../../../src/sae/types';

function weights(d: number, m: number, architecture: TrainConfig['architecture']): SaeWeights {
  const r = new Rng(5);
  const a = (n: number) => new Float32Array(n).map(() => r.normal());
  return {
    d_in: d,
    d_sae: m,
    W_enc: a(d * m),
    b_enc: a(m),
    W_dec: a(m * d),
    b_dec: a(d),
    ...(architecture === 'jumprelu' ? { log_threshold: a(m) } : {}),
    ...(architecture === 'batchtopk' ? { topk_threshold: 0.375 } : {}),
  };
}

describe('streamed SAE export', () => {
  for (const [architecture, s] of [
    ['relu', 1],
    ['relu', 1.7],
    ['jumprelu', 0.3],
    ['batchtopk', 1.7],
  ] as const)
    it(`${architecture}, scaling ${s}: same bytes as the whole export, one tensor at a time`, async () => {
      const config: TrainConfig = { ...DEFAULT_CONFIG, architecture, d_in: 6, d_sae: 10 };
      const w = weights(6, 10, architecture);
      const whole = buildSaeFolder({
        weights: w,
        config,
        scaling_factor: s,
        density: null,
        steps: 1,
        tokens_seen: 1,
      }).get(WEIGHTS_FILE)!;
      let outstanding = 0;
      let peak = 0;
      const parts: Uint8Array[] = [];
      await streamSaeWeights(
        async (name) => {
          const v = w[name];
          const a = typeof v === 'number' ? Float32Array.of(v) : v!.slice();
          peak = Math.max(peak, (outstanding += a.byteLength));
          return a;
        },
        config,
        s,
        {
          write: (b) => {
            if (parts.push(b.slice()) > 1) outstanding -= b.byteLength;
          },
        },
      );
      expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true);
      const th = readSafetensors(whole, WEIGHTS_FILE).tensors.get('threshold');
      if (architecture === 'batchtopk')
        // SAELens saves a BatchTopK SAE as a JumpReLU with threshold = θ for every feature.
        expect(Array.from(tensorToFloat32(th!, 'threshold', WEIGHTS_FILE))).toEqual(
          new Array(10).fill(0.375),
        );
      else expect(th === undefined).toBe(architecture !== 'jumprelu');
      expect(peak).toBe(6 * 10 * 4);
      // The caller's arrays are folded in place only when it handed over fresh ones: w is unchanged.
      expect(w.W_enc[0]).toBe(weights(6, 10, architecture).W_enc[0]);
    });
});
