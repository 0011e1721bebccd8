// The GPU forward on models written in the real file formats (HF GPT-2 and Llama config.json +
// model.safetensors, llama2.c .bin legacy and v1) and read back by the loaders (src/lm/load): logits and
// every hook against the float64 reference on the original in-memory model (F32 files load exactly),
// and greedy generation on the llama2.c fixture that test/unit/lm/llama2cRunC.test.ts pins to run.c.
// Tolerance as test/gpu/lmForward.test.ts (f32 GPU vs float64, measured ≤ 2e-6): atol 2e-5 + rtol 2e-5.
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../src/data/byteSource';
import { LmGpuForward } from '../../src/lm/gpu/forward';
import { generateGreedyGpu } from '../../src/lm/gpu/generate';
import { loadModelFiles } from '../../src/lm/load';
import { forwardReference, generateGreedy } from '../../src/lm/reference/forward';
import { HOOK_POINTS, type LanguageModel } from '../../src/lm/types';
import { randomIds, randomModel } from '../fixtures/lm/randomModel';
import { llama2cFixture, writeHfGpt2, writeHfLlama, writeLlama2c } from '../fixtures/lm/writers';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';

const [S, T] = [2, 6];
const hooksOf = (m: LanguageModel) =>
  Array.from({ length: m.config.n_layers }, (_, l) => HOOK_POINTS.map((p) => `blocks.${l}.${p}`)).flat();

const cases: [string, LanguageModel, () => { bytes: Uint8Array; name: string }[]][] = (() => {
  const gpt2 = randomModel({ family: 'gpt2', seed: 21 });
  const llama = randomModel({ family: 'llama', seed: 22, rope_style: 'half' });
  // llama2.c's run.c fixes RMSNorm eps at 1e-5 (the loader sets it), so the original uses it too.
  const l2c = randomModel({
    family: 'llama',
    seed: 23,
    rope_style: 'interleaved',
    tied: true,
    norm_eps: 1e-5,
  });
  const hf = (f: { config: Uint8Array; weights: Uint8Array }) => [
    { bytes: f.config, name: 'config.json' },
    { bytes: f.weights, name: 'model.safetensors' },
  ];
  return [
    ['HF GPT2LMHeadModel', gpt2, () => hf(writeHfGpt2(gpt2, { maskBuffers: true }))],
    ['HF LlamaForCausalLM (untied, GQA)', llama, () => hf(writeHfLlama(llama))],
    ['llama2.c legacy .bin (tied)', l2c, () => [{ bytes: writeLlama2c(l2c, 0), name: 'model.bin' }]],
    ['llama2.c v1 .bin (tied)', l2c, () => [{ bytes: writeLlama2c(l2c, 1), name: 'model.bin' }]],
  ];
})();

describe('GPU forward on models read from their files', () => {
  for (const [name, original, files] of cases)
    it(`${name}: logits and every hook = the reference on the original model`, async () => {
      const ctx = await getTestGpu();
      const model = await loadModelFiles(files().map((f) => bytesByteSource(f.bytes, f.name)));
      expect(model.config.family).toBe(original.config.family);
      const fwd = new LmGpuForward(ctx, model, { S, T });
      const ids = randomIds(model.config.vocab_size, S, T, 31);
      const hooks = hooksOf(model);
      fwd.forward(ids, { capture: hooks });
      const got = await fwd.readHooks(hooks);
      const ref = forwardReference(original, ids, S, T, { capture: hooks });
      for (const h of hooks) expectClose(`${name} ${h}`, got.get(h)!, ref.hooks.get(h)!, 2e-5, 2e-5);
      expectClose(`${name} logits`, await fwd.readAllLogits(), ref.logits, 2e-5, 2e-5);
      fwd.destroy();
    });

  it('llama2.c fixture: greedy generation on the GPU = the reference’s (pinned to run.c), 40 positions', async () => {
    const ctx = await getTestGpu();
    const { model: fixture } = llama2cFixture();
    const model = await loadModelFiles([bytesByteSource(writeLlama2c(fixture, 0), 'model.bin')]);
    const positions = 40;
    // One sequence of 40 positions (causal attention lets the later slots hold anything).
    const fwd = new LmGpuForward(ctx, model, { S: 1, T: positions, vocabChunk: 100 });
    // BOS and the first tokens run.c prints for "The she and"; from there both continue greedily.
    const prompt = [1, 305, 280, 302];
    const got = await generateGreedyGpu(fwd, prompt, positions - prompt.length);
    const want = generateGreedy(model, prompt, positions - prompt.length);
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(got.length).toBe(positions - prompt.length);
    fwd.destroy();
  });
});
