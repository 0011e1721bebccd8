// bench flags for the architecture under test (--architecture, --k, --no-linearity) and the case config
// they produce: TopK/JumpReLU runs leave out the ReLU-only tf.js peer.
import { describe, expect, it } from 'vitest';
import { DEFAULT_BENCH_OPTIONS, parseBenchArgs, TRAINER_CASES } from '../../bench/cases';
import { caseConfig } from '../../bench/trainerCase';
import { ARCHITECTURE_IDS } from '../../src/sae/architectures';

describe('bench --architecture / --k / --no-linearity', () => {
  it('parses them, and drops the peer for non-ReLU architectures', () => {
    expect(parseBenchArgs(['--architecture', 'topk', '--k', '16', '--no-linearity'])).toEqual({
      ...DEFAULT_BENCH_OPTIONS,
      architecture: 'topk',
      k: 16,
      linearity: false,
      peer: false,
    });
    expect(parseBenchArgs(['--arch=relu']).peer).toBe(true);
    expect(parseBenchArgs(['--arch', 'jumprelu']).peer).toBe(false);
    // The message lists the registry's architectures, whatever they are now.
    expect(() => parseBenchArgs(['--architecture', 'gated'])).toThrow(
      `--architecture must be ${ARCHITECTURE_IDS.join('|')} (got gated)`,
    );
    expect(ARCHITECTURE_IDS.slice(0, 3)).toEqual(['relu', 'topk', 'jumprelu']);
    expect(() => parseBenchArgs(['--k', '0'])).toThrow(/--k needs an integer ≥ 1/);
  });

  it('the case config takes them; without them it is the default (ReLU) config', () => {
    const c = TRAINER_CASES[0];
    const topk = caseConfig(c, { architecture: 'topk', k: 16 });
    expect([topk.architecture, topk.k, topk.d_in, topk.d_sae]).toEqual(['topk', 16, c.d, c.d_sae]);
    expect(caseConfig(c)).toEqual(caseConfig(c, {}));
    expect(caseConfig(c).architecture).toBe('relu');
  });
});
