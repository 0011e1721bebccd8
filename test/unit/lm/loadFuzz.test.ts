// Fuzzing the model loaders (SPEC §7), as test/unit/data/fuzz.test.ts does the activation parsers:
// mutated config.json, model.safetensors, llama2.c .bin, tokenizer.bin and tokenizer.json files give a
// model (a tokenizer that encodes and decodes) or a DataFileError —
// never another exception, never a hang — and a loaded model always passes checkLanguageModel.
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { Rng } from '../../../src/data/rng';
import { checkLanguageModel } from '../../../src/lm/check';
import { loadHfModel } from '../../../src/lm/load/hf';
import { loadLlama2c } from '../../../src/lm/load/llama2c';
import { randomModel } from '../../fixtures/lm/randomModel';
import { loadLmTokenizer } from '../../../src/lm/tokenizer';
import { byteLevelBpe } from '../../fixtures/lm/tokenizerJson';
import {
  llama2cFixture,
  writeHfGpt2,
  writeHfLlama,
  writeLlama2c,
  writeLlama2cTokenizer,
} from '../../fixtures/lm/writers';
import { mutate } from '../../fixtures/mutate';

const CASES = Number(process.env.TEMPOSAE_FUZZ_CASES ?? 4000);

describe('fuzzing the model loaders', () => {
  it(`${CASES} mutated model files give a model or a DataFileError, nothing else`, async () => {
    const tiny = { n_layers: 1, d_model: 8, n_heads: 2, d_mlp: 12, vocab_size: 11, n_ctx: 6 };
    const gpt2 = writeHfGpt2(randomModel({ family: 'gpt2', seed: 1, ...tiny }), { maskBuffers: true });
    const llama = writeHfLlama(randomModel({ family: 'llama', seed: 2, ...tiny }), { dtype: 'BF16' });
    const l2c = randomModel({ family: 'llama', seed: 3, rope_style: 'interleaved', ...tiny });
    type Seed = { name: string; load: (b: Uint8Array) => Promise<unknown>; bytes: Uint8Array };
    const hf = (family: string, f: { config: Uint8Array; weights: Uint8Array }): Seed[] => [
      {
        name: `${family} config.json`,
        bytes: f.config,
        load: (b) =>
          loadHfModel(bytesByteSource(b, 'config.json'), bytesByteSource(f.weights, 'model.safetensors')),
      },
      {
        name: `${family} model.safetensors`,
        bytes: f.weights,
        load: (b) =>
          loadHfModel(bytesByteSource(f.config, 'config.json'), bytesByteSource(b, 'model.safetensors')),
      },
    ];
    const seeds: Seed[] = [
      ...hf('gpt2', gpt2),
      ...hf('llama', llama),
      {
        name: 'llama2.c legacy',
        bytes: writeLlama2c(l2c, 0),
        load: (b) => loadLlama2c(bytesByteSource(b, 'm.bin')),
      },
      {
        name: 'llama2.c v1',
        bytes: writeLlama2c(l2c, 1),
        load: (b) => loadLlama2c(bytesByteSource(b, 'm.bin')),
      },
      {
        name: 'tokenizer.bin',
        bytes: writeLlama2cTokenizer(llama2cFixture().vocab),
        load: async (b) => {
          const tok = await loadLmTokenizer([bytesByteSource(b, 'tokenizer.bin')]);
          tok.decode(tok.encode('the hello world é'));
          return null;
        },
      },
      {
        name: 'tokenizer.json',
        bytes: new TextEncoder().encode(JSON.stringify(byteLevelBpe())),
        load: async (b) => {
          const tok = await loadLmTokenizer([bytesByteSource(b, 'tokenizer.json')]);
          tok.decode(tok.encode('the hello world é'));
          return null;
        },
      },
    ];
    const r = new Rng(Number(process.env.TEMPOSAE_FUZZ_SEED ?? 20261202), 10);
    const outcomes = { data: 0, error: 0 };
    const perSeed = seeds.map(() => ({ data: 0, error: 0 }));
    for (let c = 0; c < CASES; c++) {
      const k = c % seeds.length;
      const seed = seeds[k];
      const bytes = mutate(seed.bytes, r);
      try {
        const model = await seed.load(bytes);
        if (model) checkLanguageModel(model as Parameters<typeof checkLanguageModel>[0]);
        outcomes.data++;
        perSeed[k].data++;
      } catch (e) {
        if (!(e instanceof DataFileError))
          throw new Error(
            `case ${c} (${seed.name}): ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`,
          );
        outcomes.error++;
        perSeed[k].error++;
      }
    }
    console.log(`model fuzz: ${CASES} cases — ${outcomes.data} loaded, ${outcomes.error} DataFileErrors`);
    // Every seed must both load (mutations inside the weights) and fail, or it exercises nothing.
    perSeed.forEach((o, k) => {
      expect(o.data, seeds[k].name).toBeGreaterThan(0);
      expect(o.error, seeds[k].name).toBeGreaterThan(0);
    });
  });
});
