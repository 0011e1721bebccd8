import { describe, expect, it } from 'vitest';
import { dataMismatch, primaryActionFor } from '../../src/app/trainActions';
import { DEFAULT_CONFIG } from '../../src/sae/config';
import type { RunRecord } from '../../src/store/runsStore';

describe('config against the loaded data', () => {
  const data = { seqLen: 128, numSequences: 20, d: 64 };
  it('accepts a config that fits', () => {
    expect(dataMismatch({ ...DEFAULT_CONFIG, context_size: 128, seqs_per_batch: 16 }, data)).toBeNull();
  });
  it('names a sequence length longer than the data’s sequences, with the limit', () => {
    const m = dataMismatch({ ...DEFAULT_CONFIG, context_size: 256 }, data)!;
    expect(m).toContain('256');
    expect(m).toContain('128 or less');
  });
  it('names a batch larger than the training windows (held-out share removed)', () => {
    // 20 sequences, 10 % held out → 18 training sequences; T = 64 gives 2 windows each → 36.
    expect(dataMismatch({ ...DEFAULT_CONFIG, context_size: 64, seqs_per_batch: 36 }, data)).toBeNull();
    expect(dataMismatch({ ...DEFAULT_CONFIG, context_size: 64, seqs_per_batch: 37 }, data)).toContain(
      '36 training sequences',
    );
  });
});

describe('what the main button does', () => {
  const run = (status: RunRecord['status'], config = DEFAULT_CONFIG) =>
    ({ status, config, dataKey: 'k' }) as RunRecord;
  it('follows the selected run’s status', () => {
    expect(primaryActionFor(undefined, DEFAULT_CONFIG, 'k')).toBe('new');
    expect(primaryActionFor(run('ready'), DEFAULT_CONFIG, 'k')).toBe('start');
    expect(primaryActionFor(run('running'), DEFAULT_CONFIG, 'k')).toBe('pause');
    expect(primaryActionFor(run('starting'), DEFAULT_CONFIG, 'k')).toBe('wait');
    expect(primaryActionFor(run('paused'), DEFAULT_CONFIG, 'k')).toBe('resume');
    for (const s of ['done', 'stopped', 'error'] as const)
      expect(primaryActionFor(run(s), DEFAULT_CONFIG, 'k')).toBe('new');
  });
  it('a paused run whose config differs from the panel’s gives way to a new run; a ready one on other data too', () => {
    expect(primaryActionFor(run('paused'), { ...DEFAULT_CONFIG, seed: 1 }, 'k')).toBe('new');
    expect(primaryActionFor(run('ready'), DEFAULT_CONFIG, 'other')).toBe('new');
  });
});
