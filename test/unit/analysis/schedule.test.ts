// Evaluation schedule and sweep value parsing (pure parts of src/app/evaluation.ts and sweep.ts).
import { describe, expect, it } from 'vitest';
import { evaluationDue } from '../../../src/app/evaluation';
import { parseSweepValues, SWEEP_KNOBS } from '../../../src/app/sweep';

describe('evaluation schedule', () => {
  it('is due when a multiple of eval_every was crossed since the last evaluation', () => {
    expect(evaluationDue(200, 200, undefined)).toBe(true);
    expect(evaluationDue(199, 200, undefined)).toBe(false);
    // Readbacks every 30 steps: step 210 crosses 200 even though 200 itself was never read back.
    expect(evaluationDue(210, 200, 0)).toBe(true);
    expect(evaluationDue(240, 200, 210)).toBe(false);
    expect(evaluationDue(400, 200, 210)).toBe(true);
    expect(evaluationDue(1000, 0, undefined)).toBe(false); // 0: only at the end
  });
});

describe('sweep values', () => {
  const l2 = SWEEP_KNOBS.find((k) => k.key === 'temporal_coefficient')!;
  const dsae = SWEEP_KNOBS.find((k) => k.key === 'd_sae')!;
  it('parses lists separated by commas or spaces', () => {
    expect(parseSweepValues('0, 0.005 0.02;0.04', l2)).toEqual([0, 0.005, 0.02, 0.04]);
    expect(l2.values).toEqual([0, 0.005, 0.02, 0.04]);
  });
  it('names the bad entry', () => {
    expect(() => parseSweepValues('0, x', l2)).toThrow('“x” is not a number ≥ 0.');
    expect(() => parseSweepValues('-1', l2)).toThrow('“-1”');
    expect(() => parseSweepValues('256, 300.5', dsae)).toThrow('d_sae must be a whole number (got 300.5)');
    expect(() => parseSweepValues('0, 0', l2)).toThrow('Each value once');
    expect(() => parseSweepValues(' ', l2)).toThrow('at least one value');
  });
});
