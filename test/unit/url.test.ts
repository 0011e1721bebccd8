import { describe, expect, it } from 'vitest';
import { configFromQuery, configToQuery } from '../../src/app/urlConfig';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';

describe('config ⇄ URL', () => {
  it('round-trips every field exactly, including awkward numbers, lists and null', () => {
    const cfg: TrainConfig = {
      ...DEFAULT_CONFIG,
      architecture: 'topk',
      k: 17,
      d_sae: 1536,
      l1_coefficient: 0.1 + 0.2, // 0.30000000000000004 must survive
      temporal_coefficient: 1e-7,
      alpha_beta: 12.5,
      lmax_mode: 'ema',
      alpha_mode: 'relative',
      seq_start_mode: 'skip',
      recon_loss: 'norm',
      lr: 3e-4,
      lr_schedule: 'cosine',
      doc_start_token_ids: [0, 50256],
      pad_token_id: 7,
      seed: 4294967295,
      normalize_activations: 'expected_average_only_in',
      contrastive_similarity: 'dot', // a string field of T-SAE's, parsed as one of its values
      matryoshka_widths: [64, 512],
      matryoshka_weights: [0.1, 0.4, 1 / 3], // numbers, not integers
    };
    const q = configToQuery(cfg, { kind: 'builtin', preset: 'tiny' });
    const back = configFromQuery(q);
    expect(back.problems).toEqual([]);
    expect(back.config).toEqual(cfg);
    expect(back.hasConfig).toBe(true);
    expect(back.data).toEqual({ kind: 'builtin', preset: 'tiny' });
    // Every field of the config is written (a link must not depend on today's defaults).
    const keys = new Set(new URLSearchParams(q).keys());
    for (const k of Object.keys(DEFAULT_CONFIG)) expect(keys.has(k)).toBe(true);
  });

  it('matryoshka_weights take any numbers; widths stay integers', () => {
    expect(configFromQuery('matryoshka_weights=0.2,x').problems).toEqual([
      'URL parameter matryoshka_weights=“0.2,x” is not a comma-separated list of numbers; kept [].',
    ]);
    expect(configFromQuery('matryoshka_widths=0.5').problems).toEqual([
      'URL parameter matryoshka_widths=“0.5” is not a comma-separated list of integers; kept [].',
    ]);
  });

  it('round-trips null pad token and empty doc-start list', () => {
    const q = configToQuery(DEFAULT_CONFIG, { kind: 'files', label: 'x' });
    const back = configFromQuery(q);
    expect(back.config.pad_token_id).toBeNull();
    expect(back.config.doc_start_token_ids).toEqual([]);
    expect(back.data).toEqual({ kind: 'files', label: 'your files' });
  });

  it('an empty query gives the defaults and no problems', () => {
    const r = configFromQuery('');
    expect(r.config).toEqual(DEFAULT_CONFIG);
    expect(r.hasConfig).toBe(false);
    expect(r.data).toBeNull();
    expect(r.problems).toEqual([]);
  });

  it('keeps the default for a malformed value and names the parameter', () => {
    const r = configFromQuery('d_sae=abc&architecture=gelu&lr=0.001&doc_start_token_ids=1,x&bogus=1');
    expect(r.config.d_sae).toBe(DEFAULT_CONFIG.d_sae);
    expect(r.config.architecture).toBe(DEFAULT_CONFIG.architecture);
    expect(r.config.doc_start_token_ids).toEqual([]);
    expect(r.config.lr).toBe(0.001); // the good value is still taken
    // Only the well-formed fields the link set are "given" (they win over what the data implies).
    expect(r.given).toEqual({ lr: 0.001 });
    const text = r.problems.join('\n');
    expect(text).toContain('d_sae');
    expect(text).toContain('architecture');
    expect(text).toContain('one of relu, topk, jumprelu');
    expect(text).toContain('doc_start_token_ids');
    expect(text).toContain('bogus');
  });

  it('rejects a well-formed but invalid config as a whole (k > d_sae)', () => {
    const r = configFromQuery('architecture=topk&k=600&d_sae=512');
    expect(r.config).toEqual(DEFAULT_CONFIG);
    expect(r.given).toEqual({});
    expect(r.problems.join()).toMatch(/k must be an integer in 1\.\.d_sae/);
  });

  it('rejects Infinity and NaN', () => {
    const r = configFromQuery('lr=Infinity&alpha_beta=NaN');
    expect(r.config.lr).toBe(DEFAULT_CONFIG.lr);
    expect(r.config.alpha_beta).toBe(DEFAULT_CONFIG.alpha_beta);
    expect(r.problems).toHaveLength(2);
  });
});
