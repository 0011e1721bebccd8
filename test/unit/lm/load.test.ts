// Model loaders (src/lm/load): HF GPT-2 / Llama folders and llama2.c .bin files written by the fixture
// writers round-trip to the same canonical model (exactly for F32, through the dtype's rounding for
// F16 / BF16), and bad files fail with messages that name the file and the problem.
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { loadHfModel } from '../../../src/lm/load/hf';
import { loadLlama2c } from '../../../src/lm/load/llama2c';
import { loadModelFiles } from '../../../src/lm/load';
import { forwardReference } from '../../../src/lm/reference/forward';
import type { LanguageModel, LmWeights } from '../../../src/lm/types';
import { bytesOf } from '../../fixtures/data/build';
import { randomIds, randomModel } from '../../fixtures/lm/randomModel';
import {
  hfFilesOf,
  roundTrip,
  writeHfGpt2,
  writeHfLlama,
  writeLlama2c,
  type HfFiles,
  type WeightDtype,
} from '../../fixtures/lm/writers';

const src = (b: Uint8Array, name: string) => bytesByteSource(b, name);
const loadHf = (f: HfFiles, maxBytes?: number) =>
  loadHfModel(src(f.config, 'config.json'), src(f.weights, 'model.safetensors'), { maxBytes });

/** Every weight of `got` equals `want` after the dtype's rounding; tied stays tied. */
function expectSameWeights(got: LanguageModel, want: LanguageModel, dtype: WeightDtype = 'F32') {
  // llama2.c files carry no pad token (run.c has none).
  if (got.config.source.endsWith('.bin')) want = { ...want, config: { ...want.config, pad_token_id: null } };
  const g = got.weights;
  const w = want.weights;
  const same = (a: Float32Array | null, b: Float32Array | null, what: string) => {
    if (b === null) return expect(a, what).toBeNull();
    expect(a, what).not.toBeNull();
    expect(Array.from(a!), what).toEqual(Array.from(roundTrip(b, dtype)));
  };
  for (const k of ['W_E', 'W_pos', 'ln_final_w', 'ln_final_b', 'W_U'] as const) same(g[k], w[k], k);
  expect(g.W_U === g.W_E).toBe(w.W_U === w.W_E);
  expect(g.blocks.length).toBe(w.blocks.length);
  g.blocks.forEach((b, L) => {
    for (const k of Object.keys(b) as (keyof LmWeights['blocks'][number])[])
      same(b[k], w.blocks[L][k], `blocks.${L}.${k}`);
  });
  const { source: _a, ...gc } = got.config;
  const { source: _b, ...wc } = want.config;
  expect(gc).toEqual(wc);
}

async function failure(p: Promise<unknown>): Promise<DataFileError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DataFileError);
    return e as DataFileError;
  }
  throw new Error('expected the load to fail');
}

describe('HF GPT-2', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const)
    it(`round-trips a random model stored as ${dtype}`, async () => {
      const m = randomModel({ family: 'gpt2', seed: 21 });
      const got = await loadHf(writeHfGpt2(m, { dtype, maskBuffers: dtype === 'F32' }));
      expectSameWeights(got, m, dtype);
    });

  it('reads GPT2LMHeadModel names (transformer. prefix), an untied lm_head, and gives the same logits', async () => {
    const m = randomModel({ family: 'gpt2', seed: 22, tied: false, d_mlp: 64 });
    const got = await loadHf(writeHfGpt2(m, { prefix: true }));
    expectSameWeights(got, m);
    const ids = randomIds(m.config.vocab_size, 1, 8);
    expect(Array.from(forwardReference(got, ids, 1, 8).logits)).toEqual(
      Array.from(forwardReference(m, ids, 1, 8).logits),
    );
  });
});

describe('HF Llama', () => {
  for (const dtype of ['F32', 'BF16'] as const)
    it(`round-trips grouped-query attention, untied unembedding, ${dtype}`, async () => {
      const m = randomModel({ family: 'llama', seed: 23, n_heads: 4, n_kv_heads: 2 });
      const got = await loadHf(writeHfLlama(m, { dtype }));
      expectSameWeights(got, m, dtype);
      expect(got.config.rope_style).toBe('half');
    });

  it('tied embeddings (SmolLM style): no lm_head stored, W_U is W_E; a stored one is ignored', async () => {
    const m = randomModel({ family: 'llama', seed: 24, tied: true });
    const f = writeHfLlama(m);
    expectSameWeights(await loadHf(f), m);
    const extra = f.tensors.concat({ ...f.tensors[0], name: 'lm_head.weight' });
    const got = await loadHf(hfFilesOf(f.configJson, extra));
    expect(got.weights.W_U).toBe(got.weights.W_E);
  });
});

describe('llama2.c .bin', () => {
  for (const version of [0, 1] as const)
    for (const tied of [true, false])
      it(`${version === 0 ? 'legacy' : 'v1'} header, ${tied ? 'shared' : 'unshared'} classifier`, async () => {
        const m = randomModel({ family: 'llama', seed: 25, rope_style: 'interleaved', tied, norm_eps: 1e-5 });
        const got = await loadLlama2c(src(writeLlama2c(m, version), 'model.bin'));
        expectSameWeights(got, m);
      });
});

describe('loadModelFiles picks the format from the file names', () => {
  it('an HF folder, a .bin, and clear refusals', async () => {
    const g = randomModel({ family: 'gpt2', seed: 26 });
    const f = writeHfGpt2(g);
    const tok = src(new Uint8Array(10), 'tokenizer.json');
    const hf = await loadModelFiles([tok, src(f.config, 'config.json'), src(f.weights, 'model.safetensors')]);
    expectSameWeights(hf, g);
    const l = randomModel({ family: 'llama', seed: 26, rope_style: 'interleaved', norm_eps: 1e-5 });
    const bin = await loadModelFiles([
      src(new Uint8Array(8), 'tokenizer.bin'),
      src(writeLlama2c(l, 1), 'stories.bin'),
    ]);
    expectSameWeights(bin, l);
    expect((await failure(loadModelFiles([src(f.config, 'config.json')]))).message).toMatch(
      /model\.safetensors/,
    );
    expect(
      (await failure(loadModelFiles([src(f.config, 'config.json'), src(f.weights, 'pytorch_model.bin')])))
        .message,
    ).toMatch(/pickle/);
    expect(
      (
        await failure(
          loadModelFiles([src(f.config, 'config.json'), src(f.weights, 'model.safetensors.index.json')]),
        )
      ).message,
    ).toMatch(/sharded/);
    expect((await failure(loadModelFiles([tok]))).message).toMatch(/no model/);
  });
});

describe('bad files are refused with the file and the problem named', () => {
  const gpt2 = () => writeHfGpt2(randomModel({ family: 'gpt2', seed: 27 }));
  const llama = () => writeHfLlama(randomModel({ family: 'llama', seed: 27 }));

  it('an unknown architecture, unsupported settings, bad numbers', async () => {
    const f = gpt2();
    const neox = hfFilesOf({ ...f.configJson, architectures: ['GPTNeoXForCausalLM'] }, f.tensors);
    expect((await failure(loadHf(neox))).message).toMatch(
      /config\.json: architecture "GPTNeoXForCausalLM" is not supported/,
    );
    const l = llama();
    const scaled = hfFilesOf({ ...l.configJson, rope_scaling: { type: 'linear', factor: 2 } }, l.tensors);
    expect((await failure(loadHf(scaled))).message).toMatch(/rope_scaling/);
    const act = hfFilesOf({ ...f.configJson, activation_function: 'relu' }, f.tensors);
    expect((await failure(loadHf(act))).message).toMatch(/activation_function = "relu"/);
    const neg = hfFilesOf({ ...f.configJson, n_layer: -1 }, f.tensors);
    expect((await failure(loadHf(neg))).message).toMatch(/n_layer must be a positive integer/);
    const frac = hfFilesOf({ ...l.configJson, num_key_value_heads: 3 }, l.tensors);
    expect((await failure(loadHf(frac))).message).toMatch(/not a multiple of num_key_value_heads 3/);
    const notJson = { ...f, config: new TextEncoder().encode('{"n_embd": 16,') };
    expect((await failure(loadHf(notJson))).message).toMatch(/config\.json: not valid JSON/);
  });

  it('a missing, mis-shaped, unexpected or non-float tensor is named', async () => {
    const f = gpt2();
    const drop = hfFilesOf(
      f.configJson,
      f.tensors.filter((t) => t.name !== 'h.1.mlp.c_fc.bias'),
    );
    expect((await failure(loadHf(drop))).message).toMatch(
      /model\.safetensors: missing tensor h\.1\.mlp\.c_fc\.bias/,
    );
    // A config that says 3 layers for a 2-layer file: every block-2 tensor is missing.
    const huge = hfFilesOf({ ...f.configJson, n_layer: 10_000_000 }, f.tensors);
    expect((await failure(loadHf(huge))).message).toMatch(
      /10000000 layers, but the file holds only \d+ tensors/,
    );
    const more = hfFilesOf({ ...f.configJson, n_layer: 3 }, f.tensors);
    expect((await failure(loadHf(more))).message).toMatch(
      /missing tensors h\.2\.ln_1\.weight, .* and \d+ more/,
    );
    const fewer = hfFilesOf({ ...f.configJson, n_layer: 1 }, f.tensors);
    expect((await failure(loadHf(fewer))).message).toMatch(/unexpected tensor h\.1\./);
    const wide = hfFilesOf({ ...f.configJson, n_embd: 32, n_head: 4 }, f.tensors);
    expect((await failure(loadHf(wide))).message).toMatch(
      /tensor wte\.weight has shape \[37,16\], config\.json implies \[37,32\]/,
    );
    const ints = f.tensors.map((t) =>
      t.name === 'ln_f.bias' ? { ...t, dtype: 'I32', data: bytesOf(new Int32Array(t.data.length / 4)) } : t,
    );
    expect((await failure(loadHf(hfFilesOf(f.configJson, ints)))).message).toMatch(
      /ln_f\.bias has dtype I32/,
    );
    const l = llama();
    const noHead = hfFilesOf(
      l.configJson,
      l.tensors.filter((t) => t.name !== 'lm_head.weight'),
    );
    expect((await failure(loadHf(noHead))).message).toMatch(/missing tensor lm_head\.weight/);
  });

  it('a model over the byte budget is refused before reading, with the bytes it needs', async () => {
    const m = randomModel({ family: 'gpt2', seed: 28 });
    const f = writeHfGpt2(m);
    const floats = f.tensors.reduce((a, t) => a + t.data.length / 4, 0);
    const e = await failure(loadHf(f, floats * 4 - 1));
    expect(e.message).toContain(`needs ${floats * 4} bytes`);
    expect(e.message).toContain(`more than the ${floats * 4 - 1} bytes`);
    await expect(loadHf(f, floats * 4)).resolves.toBeTruthy();
    // The refusal comes before any tensor is read: a source that fails on data reads still gets it.
    const header = new DataView(f.weights.buffer).getUint32(0, true) + 8;
    const guarded = src(f.weights, 'model.safetensors');
    const read = guarded.read.bind(guarded);
    guarded.read = (o, n) => (o >= header ? Promise.reject(new Error('read a weight')) : read(o, n));
    expect(
      (await failure(loadHfModel(src(f.config, 'config.json'), guarded, { maxBytes: 100 }))).message,
    ).toMatch(/needs/);
    const l = writeLlama2c(randomModel({ family: 'llama', seed: 28, rope_style: 'interleaved' }));
    expect((await failure(loadLlama2c(src(l, 'm.bin'), { maxBytes: 1000 }))).message).toMatch(
      /m\.bin: the model needs \d+ bytes/,
    );
  });

  it('llama2.c: truncated, padded, version 2, bad header numbers', async () => {
    const m = randomModel({ family: 'llama', seed: 29, rope_style: 'interleaved' });
    const b = writeLlama2c(m, 0);
    expect((await failure(loadLlama2c(src(b.subarray(0, b.length - 4), 'm.bin')))).message).toMatch(
      /m\.bin: the header's shapes .* need \d+ bytes, the file has \d+/,
    );
    const padded = new Uint8Array(b.length + 4);
    padded.set(b);
    expect((await failure(loadLlama2c(src(padded, 'm.bin')))).message).toMatch(/need \d+ bytes/);
    const v2 = writeLlama2c(m, 1);
    new DataView(v2.buffer).setInt32(4, 2, true);
    expect((await failure(loadLlama2c(src(v2, 'm.bin')))).message).toMatch(/version 2 \(int8-quantized\)/);
    const heads = b.slice();
    new DataView(heads.buffer).setInt32(12, 3, true); // n_heads 3 for dim 16
    expect((await failure(loadLlama2c(src(heads, 'm.bin')))).message).toMatch(
      /dim 16 is not a multiple of n_heads 3/,
    );
    const zero = b.slice();
    new DataView(zero.buffer).setInt32(8, 0, true);
    expect((await failure(loadLlama2c(src(zero, 'm.bin')))).message).toMatch(
      /n_layers must be a positive integer/,
    );
    expect((await failure(loadLlama2c(src(b.subarray(0, 20), 'm.bin')))).message).toMatch(/too short/);
  });
});
