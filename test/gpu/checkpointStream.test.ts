// Streamed checkpoints against the GPU trainer: the streamed bytes equal serializeCheckpoint(getState())
// byte for byte; a trainer built empty (createTrainer(…, null)) and filled tensor by tensor has the same
// state and trains on to the same numbers as the original; and the host never holds more than one
// tensor read back but not yet written (the largest: W_enc or W_dec, d·d_sae·4 bytes), nor more than one
// tensor read from the file but not yet on the GPU.
import { describe, expect, it } from 'vitest';
import {
  openCheckpoint,
  restoreCheckpoint,
  serializeCheckpoint,
  streamCheckpoint,
  type ByteReader,
} from '../../src/io/checkpoint';
import type { TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { createTrainer } from '../../src/sae/trainer';
import type { SaeTrainerApi } from '../../src/sae/trainerApi';
import { getTestGpu } from '../helpers/dawn';
import { gpuBatch, gpuCfg } from './fixtures';

/** Counts the bytes a trainer handed out (readStateTensor) that the sink has not yet received. */
function watched(t: SaeTrainerApi) {
  let outstanding = 0;
  let peak = 0;
  const parts: Uint8Array[] = [];
  const read = t.readStateTensor!.bind(t);
  const trainer: SaeTrainerApi = Object.assign(Object.create(t), {
    readStateTensor: async (name: string) => {
      const a = await read(name);
      outstanding += a.byteLength;
      peak = Math.max(peak, outstanding);
      return a;
    },
  });
  const sink = {
    write(b: Uint8Array) {
      parts.push(b.slice());
      if (parts.length > 1) outstanding -= b.byteLength;
    },
  };
  return { trainer, sink, parts, peak: () => peak };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

describe('streamed checkpoints on the GPU trainer', () => {
  for (const architecture of ['relu', 'topk', 'jumprelu'] as const)
    it(`${architecture}: same bytes as the whole state, restored exactly, one tensor at a time`, async () => {
      const cfg: TrainConfig = gpuCfg({ architecture, training_tokens: 24 * 10 });
      const gpu = await getTestGpu();
      const first = gpuBatch(cfg, 7);
      const a = await createTrainer(gpu, cfg, initWeights(cfg, first));
      for (let s = 0; s < 3; s++) a.trainStep(s === 0 ? first : gpuBatch(cfg, 7 + s));
      await a.readMetrics();
      const base = { config: cfg, data_state: { epoch: 0, cursor: 3 }, scaling_factor: 1, created_at: 'now' };
      const w = watched(a);
      expect(await streamCheckpoint(w.trainer, base, w.sink)).toBe(3);
      const streamed = concat(w.parts);
      const whole = serializeCheckpoint({ ...base, trainer: await a.getState() });
      expect(streamed.length).toBe(whole.length);
      expect(Buffer.from(streamed).equals(Buffer.from(whole))).toBe(true);
      const largest = cfg.d_in * cfg.d_sae * 4;
      expect(w.peak()).toBe(largest);

      // Restore: read from the file one tensor at a time, each written to the GPU before the next read.
      let reading = 0;
      let readPeak = 0;
      const reader: ByteReader = {
        size: streamed.length,
        read: (o, n) => {
          readPeak = Math.max(readPeak, (reading += n));
          return streamed.slice(o, o + n);
        },
      };
      const ck = await openCheckpoint(reader, 'ck.safetensors');
      // The header (length + JSON) is read once up front; from here on only tensors.
      reading = readPeak = 0;
      const b = await createTrainer(gpu, ck.meta.config, null);
      const write = b.writeStateTensor!.bind(b);
      b.writeStateTensor = (name, data) => {
        write(name, data);
        reading -= data.byteLength;
      };
      await restoreCheckpoint(b, ck);
      expect(readPeak).toBe(largest);
      expect(b.step).toBe(3);
      expect(await b.getState()).toEqual(await a.getState());
      // Both go on identically.
      for (let s = 3; s < 6; s++) {
        a.trainStep(gpuBatch(cfg, 7 + s));
        b.trainStep(gpuBatch(cfg, 7 + s));
      }
      expect(await b.readMetrics()).toEqual(await a.readMetrics());
      a.destroy();
      b.destroy();
    });
});
