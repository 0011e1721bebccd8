// The model panel's session (src/app/modelSession.ts) without a GPU: which dropped files are text, the
// hook list and default, a real tiny GPT-2 folder loaded from Blobs (summary numbers against the
// config's own arithmetic), a broken weights file refused with the loader's message while the model
// stays, captures refused before any GPU work with the reason; and the cfg.json provenance keys a
// capture adds (absent otherwise, so other exports keep their cfg.json).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  captureToData,
  defaultHook,
  dropModelFiles,
  hookNames,
  isModelDrop,
  isTextFile,
  useModelStore,
} from '../../../src/app/modelSession';
import { buildCfgJson } from '../../../src/io/saelensCfg';
import { DEFAULT_CONFIG } from '../../../src/sae/config';
import { randomModel } from '../../fixtures/lm/randomModel';
import { byteLevelBpe } from '../../fixtures/lm/tokenizerJson';
import { hfFolderFiles } from '../../fixtures/lm/writers';

const picked = (name: string, bytes: Uint8Array) => ({
  file: Object.assign(new Blob([bytes as BlobPart]), { name: name.split('/').pop()! }),
  path: name,
});

describe('model session', () => {
  it('tells text files from model files by name', () => {
    for (const n of ['docs.jsonl', 'a/b/notes.txt', 'README.md', 'train.parquet', 'records.json'])
      expect(isTextFile(n), n).toBe(true);
    for (const n of [
      'gpt2/config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'generation_config.json',
      'special_tokens_map.json',
      'model.safetensors.index.json',
      'model.safetensors',
      'stories15M.bin',
      'tokenizer.bin',
    ])
      expect(isTextFile(n), n).toBe(false);
  });

  it('tells a model drop (handed to the model panel) from data drops', () => {
    expect(isModelDrop(['gpt2/config.json', 'gpt2/model.safetensors', 'gpt2/tokenizer.json'])).toBe(true);
    expect(isModelDrop(['stories15M.bin', 'tokenizer.bin', 'tiny.txt'])).toBe(true);
    expect(isModelDrop(['acts.safetensors', 'tokenizer.json'])).toBe(false);
    expect(isModelDrop(['sae/cfg.json', 'sae/sae_weights.safetensors'])).toBe(false);
    expect(
      isModelDrop(['cache/dataset_info.json', 'cache/state.json', 'cache/data-00000-of-00001.arrow']),
    ).toBe(false);
    expect(isModelDrop(['tokenizer.bin'])).toBe(false);
    expect(isModelDrop(['acts.npz', 'vocab.json'])).toBe(false);
  });

  it('lists every hook of every block and defaults to the middle resid_pre', () => {
    const h = hookNames(3);
    expect(h).toHaveLength(15);
    expect(h.slice(0, 3)).toEqual([
      'blocks.0.hook_resid_pre',
      'blocks.1.hook_resid_pre',
      'blocks.2.hook_resid_pre',
    ]);
    expect(new Set(h).size).toBe(15);
    expect(h).toContain('blocks.2.hook_mlp_out');
    expect(defaultHook(12)).toBe('blocks.6.hook_resid_pre');
    expect(defaultHook(1)).toBe('blocks.0.hook_resid_pre');
  });

  describe('a dropped GPT-2 folder', () => {
    const tok = byteLevelBpe();
    const V = Object.keys((tok.model as { vocab: object }).vocab).length;
    const model = randomModel({ family: 'gpt2', seed: 7, vocab_size: V });
    const files = hfFolderFiles(model, tok, { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' });
    beforeAll(async () => {
      await dropModelFiles([
        ...Object.entries(files).map(([n, b]) => picked(`tiny-gpt2/${n}`, b)),
        picked('docs.jsonl', new TextEncoder().encode('{"text": "hello world"}')),
      ]);
    });

    it('shows its architecture, shape and size', () => {
      const s = useModelStore.getState();
      expect(s.error).toBeNull();
      const c = model.config;
      const d = c.d_model;
      const perBlock =
        2 * d + 3 * d * d + 3 * d + d * d + d + 2 * d + d * c.d_mlp + c.d_mlp + c.d_mlp * d + d;
      const params = c.vocab_size * d + c.n_ctx * d + c.n_layers * perBlock + 2 * d; // tied W_U
      expect(s.model).toMatchObject({
        name: 'tiny-gpt2',
        family: 'gpt2',
        n_layers: c.n_layers,
        d_model: d,
        vocab_size: V,
        n_ctx: c.n_ctx,
        params,
        bytes: 4 * params,
        tokenizer: 'tiny-gpt2/tokenizer.json',
        bosId: V - 1,
      });
      expect(s.model!.architecture).toMatch(/^GPT-2: LayerNorm/);
      expect(s.texts).toEqual([{ name: 'docs.jsonl', size: 23 }]);
    });

    it('refuses a truncated model.safetensors by name and keeps the model', async () => {
      const before = useModelStore.getState().model;
      await dropModelFiles([
        picked('config.json', files['config.json']),
        picked('model.safetensors', files['model.safetensors'].subarray(0, 100)),
        picked('tokenizer.json', files['tokenizer.json']),
      ]);
      const s = useModelStore.getState();
      expect(s.error).toMatch(/model\.safetensors/);
      expect(s.error).toContain('tiny-gpt2 is still loaded');
      expect(s.model).toBe(before);
      expect(s.busy).toBeNull();
    });

    it('refuses captures it cannot make, before touching the GPU', async () => {
      const base = {
        hook: 'blocks.1.hook_resid_pre',
        contextSize: 16,
        prependBos: true,
        center: true,
        maxRows: 8,
      };
      const cases: [Partial<typeof base>, RegExp][] = [
        [{ hook: 'blocks.2.hook_resid_pre' }, /blocks 0–1/],
        [{ hook: 'blocks.0.hook_q' }, /unknown hook point/],
        [{ contextSize: 33 }, /context size 33 is not in 2\.\.32/],
        [{ maxRows: 0 }, /rows must be a positive integer/],
        // "hello world" is 3 tokens with BOS: no full row of 16.
        [{}, /no full row of 16 tokens/],
      ];
      for (const [o, re] of cases) {
        expect(await captureToData({ ...base, ...o }, '')).toBeNull();
        expect(useModelStore.getState().error).toMatch(re);
        expect(useModelStore.getState().busy).toBeNull();
      }
    });
  });

  it('cfg.json records a capture’s prepend_bos and processing, and nothing new otherwise', () => {
    const common = { config: DEFAULT_CONFIG, scaling_factor: 1, steps: 1, tokens_seen: 1 };
    const plain = buildCfgJson(common).metadata as Record<string, unknown>;
    expect(plain.prepend_bos).toBe(true);
    expect('model_from_pretrained_kwargs' in plain).toBe(false);
    const made = buildCfgJson({
      ...common,
      provenance: {
        model_name: 'gpt2',
        hook_name: 'blocks.6.hook_resid_pre',
        prepend_bos: false,
        model_from_pretrained_kwargs: { center_writing_weights: true },
      },
    }).metadata as Record<string, unknown>;
    expect(made).toMatchObject({
      model_name: 'gpt2',
      hook_name: 'blocks.6.hook_resid_pre',
      prepend_bos: false,
      model_from_pretrained_kwargs: { center_writing_weights: true },
    });
  });
});
