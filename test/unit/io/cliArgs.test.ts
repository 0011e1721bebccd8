// The CLI's flag parsing: every TrainConfig field is a flag, aliases map to SAELens names, values are
// typed, --config JSON sits under the flags, --steps sets the token budget, mistakes are named.
import { describe, expect, it } from 'vitest';
import { CONFIG_ALIASES, configFromArgs, flag, flagList, parseArgs, UsageError } from '../../../src/cli/args';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/sae/config';

describe('CLI arguments', () => {
  it('parses --flag value, --flag=value, lists and bare switches', () => {
    const a = parseArgs(['train', '--data', 'a.npy', 'b.npy', '--out=x', '--resume', '--seed', '3']);
    expect(a.command).toBe('train');
    expect(flagList(a, 'data')).toEqual(['a.npy', 'b.npy']);
    expect(flag(a, 'out')).toBe('x');
    expect(flag(a, 'resume')).toBe('true');
    expect(() => parseArgs(['train', 'stray'])).toThrow(UsageError);
    expect(() => flag(parseArgs(['train', '--out', 'a', 'b']), 'out')).toThrow(/--out takes one value/);
  });

  it('every config field can be set by its own flag name, with the right type', () => {
    const samples: Partial<Record<keyof TrainConfig, [string[], unknown]>> = {
      architecture: [['jumprelu'], 'jumprelu'],
      recon_loss: [['norm'], 'norm'],
      lmax_mode: [['ema'], 'ema'],
      alpha_mode: [['relative'], 'relative'],
      seq_start_mode: [['skip'], 'skip'],
      lr_schedule: [['cosine'], 'cosine'],
      normalize_activations: [['expected_average_only_in'], 'expected_average_only_in'],
      doc_start_token_ids: [
        ['0,5', '7'],
        [0, 5, 7],
      ],
      pad_token_id: [['none'], null],
      matryoshka_widths: [['8,16'], [8, 16]],
      matryoshka_weights: [['0.2,0.8'], [0.2, 0.8]],
      contrastive_similarity: [['dot'], 'dot'],
    };
    for (const field of Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[]) {
      const [values, expected] = samples[field] ?? [['3'], 3];
      const a = parseArgs(['train', `--${field.replace(/_/g, '-')}`, ...values]);
      expect(configFromArgs(a, DEFAULT_CONFIG)[field], field).toEqual(expected);
    }
  });

  it('aliases, --config JSON under the flags, --steps in tokens', () => {
    const a = parseArgs([
      'train',
      '--arch',
      'topk',
      '--l1',
      '0.1',
      '--l2',
      '0.05',
      '--beta',
      '2',
      '--seq-len',
      '64',
      '--batch-seqs',
      '8',
      '--steps',
      '100',
      '--lr',
      '0.001',
    ]);
    const c = configFromArgs(a, DEFAULT_CONFIG, { lr: 0.5, k: 16 });
    expect(c).toMatchObject({
      architecture: 'topk',
      l1_coefficient: 0.1,
      temporal_coefficient: 0.05,
      alpha_beta: 2,
      context_size: 64,
      seqs_per_batch: 8,
      training_tokens: 100 * 8 * 64,
      lr: 0.001, // the flag wins over --config
      k: 16, // --config wins over the default
    });
    for (const field of Object.values(CONFIG_ALIASES)) expect(DEFAULT_CONFIG).toHaveProperty(field);
  });

  it('names the mistake', () => {
    expect(() => configFromArgs(parseArgs(['train', '--lr', 'fast']), DEFAULT_CONFIG)).toThrow(
      /--lr needs a number \(got 'fast'\)/,
    );
    expect(() => configFromArgs(parseArgs(['train', '--steps', '0']), DEFAULT_CONFIG)).toThrow(
      /--steps must be a positive integer/,
    );
    expect(() => configFromArgs(parseArgs(['train']), DEFAULT_CONFIG, { learning_rate: 1 })).toThrow(
      /unknown field 'learning_rate'/,
    );
    expect(() => configFromArgs(parseArgs(['train', '--doc-start-token-ids', 'a']), DEFAULT_CONFIG)).toThrow(
      /takes integers/,
    );
    expect(() => configFromArgs(parseArgs(['train', '--matryoshka-widths', '0.5']), DEFAULT_CONFIG)).toThrow(
      /--matryoshka-widths takes integers/,
    );
    expect(() =>
      configFromArgs(parseArgs(['train', '--matryoshka-weights', '0.2,x']), DEFAULT_CONFIG),
    ).toThrow(/--matryoshka-weights takes numbers \(got 0.2,x\)/);
  });
});
