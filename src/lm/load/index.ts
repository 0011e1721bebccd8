// Picks the model format from a set of dropped (or listed) files by their names and loads it:
// an HF folder (config.json + model.safetensors) or a llama2.c checkpoint (*.bin other than
// tokenizer.bin). Tokenizer files in the set are left for the tokenizer loaders.
import type { ByteSource } from '../../data/byteSource';
import { DataFileError } from '../../data/errors';
import type { LanguageModel } from '../types';
import type { LoadOptions } from './common';
import { loadHfModel } from './hf';
import { loadLlama2c } from './llama2c';

export { DEFAULT_MODEL_BYTE_BUDGET, type LoadOptions } from './common';
export { loadHfModel, parseHfConfig } from './hf';
export { loadLlama2c, parseLlama2cHeader } from './llama2c';

const base = (name: string) => name.slice(name.lastIndexOf('/') + 1);

export async function loadModelFiles(files: ByteSource[], opts: LoadOptions = {}): Promise<LanguageModel> {
  const byName = new Map(files.map((f) => [base(f.name), f]));
  const listed = [...byName.keys()].join(', ') || 'nothing';
  const config = byName.get('config.json');
  const safetensors =
    byName.get('model.safetensors') ??
    (() => {
      const all = [...byName.entries()].filter(([n]) => n.endsWith('.safetensors'));
      return all.length === 1 ? all[0][1] : undefined;
    })();
  if (config) {
    if (safetensors && !/-\d+-of-\d+\.safetensors$/.test(base(safetensors.name)))
      return loadHfModel(config, safetensors, opts);
    if (
      byName.has('model.safetensors.index.json') ||
      [...byName.keys()].some((n) => /-of-\d+\.safetensors$/.test(n))
    )
      throw new DataFileError(
        config.name,
        'sharded checkpoints (model-0000x-of-0000y.safetensors) are not supported yet',
      );
    if (byName.has('pytorch_model.bin'))
      throw new DataFileError(
        'pytorch_model.bin',
        'pickle files are never opened (SPEC §7); convert the model to model.safetensors',
      );
    throw new DataFileError(
      config.name,
      `config.json is here but model.safetensors is not (files: ${listed})`,
    );
  }
  const bins = [...byName.entries()].filter(
    ([n]) => n.endsWith('.bin') && n !== 'tokenizer.bin' && n !== 'pytorch_model.bin',
  );
  if (bins.length === 1) return loadLlama2c(bins[0][1], opts);
  if (bins.length > 1)
    throw new DataFileError(
      bins[0][1].name,
      `several checkpoints (${bins.map(([n]) => n).join(', ')}); drop one`,
    );
  throw new DataFileError(
    files[0]?.name ?? 'model',
    `no model among the files (${listed}): expected config.json + model.safetensors or a llama2.c .bin`,
  );
}
