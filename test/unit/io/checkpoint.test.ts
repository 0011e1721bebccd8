import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng';
import { DEFAULT_CONFIG } from '../../../src/sae/config';
import type { TrainerState } from '../../../src/sae/trainerApi';
import {
  csvToRows,
  parseCheckpoint,
  rowsToCsv,
  SaeFileError,
  serializeCheckpoint,
  writeSafetensors,
  type Checkpoint,
  type MetricRow,
} from '../../../src/io';

function state(d: number, m: number, jump: boolean): TrainerState {
  const r = new Rng(3);
  const p = () => ({
    W_enc: new Float32Array(d * m).map(() => r.normal()),
    b_enc: new Float32Array(m).map(() => r.normal()),
    W_dec: new Float32Array(m * d).map(() => r.normal()),
    b_dec: new Float32Array(d).map(() => r.normal()),
    ...(jump ? { log_threshold: new Float32Array(m).map(() => r.normal()) } : {}),
  });
  return {
    step: 123,
    tokens_seen: 123 * 2048,
    weights: { d_in: d, d_sae: m, ...p() },
    adam: { step: 123, m: p(), v: p() },
    // A double that float32 would round: checks L_max is stored at full precision.
    alpha: { l_max: 0.1 + 0.2 },
    tokens_since_fired: new Float32Array(m).map((_, i) => i * 2048),
  };
}

describe('checkpoint file', () => {
  for (const jump of [false, true])
    it(`round-trips every number exactly (${jump ? 'JumpReLU' : 'ReLU'})`, () => {
      const c: Checkpoint = {
        config: { ...DEFAULT_CONFIG, d_in: 5, d_sae: 7, architecture: jump ? 'jumprelu' : 'relu' },
        trainer: state(5, 7, jump),
        data_state: { epoch: 2, cursor: 17, rng: { s: [1, 2, 3, 4], spare: null }, order: [3, 1, 2] },
        scaling_factor: 1.2345678901234,
        extra: { note: 'x' },
        created_at: '2026-11-25T10:00:00.000Z',
      };
      const back = parseCheckpoint(serializeCheckpoint(c), 'ck.safetensors');
      expect(back).toEqual(c);
      expect(back.trainer.alpha.l_max).toBe(0.1 + 0.2);
    });
  it('l_max null (before the first step) survives', () => {
    const s = state(2, 3, false);
    s.alpha.l_max = null;
    const c: Checkpoint = {
      config: DEFAULT_CONFIG,
      trainer: s,
      data_state: null,
      scaling_factor: 1,
      created_at: '',
    };
    expect(parseCheckpoint(serializeCheckpoint(c), 'x').trainer.alpha.l_max).toBeNull();
  });
  it('refuses files that are not checkpoints, or miss a tensor', () => {
    const plain = writeSafetensors({ a: { data: new Float32Array(1), shape: [1] } });
    expect(() => parseCheckpoint(plain, 'a.safetensors')).toThrow(SaeFileError);
    expect(() => parseCheckpoint(plain, 'a.safetensors')).toThrow(/a.safetensors: not a TempoSAE checkpoint/);
    const s = state(2, 3, false);
    const bytes = serializeCheckpoint({
      config: DEFAULT_CONFIG,
      trainer: s,
      data_state: null,
      scaling_factor: 1,
      created_at: '',
    });
    expect(() => parseCheckpoint(bytes.subarray(0, bytes.length - 4), 'cut')).toThrow(/truncated/);
  });
});

describe('metric history CSV', () => {
  it('writes the union of columns and reads the same numbers back', () => {
    const rows: MetricRow[] = [
      { step: 1, l_recon: 0.5 },
      { step: 2, l_recon: 0.25, alpha: 0.6180339887498949 },
    ];
    const csv = rowsToCsv(rows);
    expect(csv).toBe('step,l_recon,alpha\n1,0.5,\n2,0.25,0.6180339887498949\n');
    expect(csvToRows(csv, 'h.csv')).toEqual(rows);
    expect(() => csvToRows('a,b\n1\n', 'h.csv')).toThrow(/h.csv: line 2 has 1 cells/);
  });
});
