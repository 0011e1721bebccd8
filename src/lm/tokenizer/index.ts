// Finds and loads a language model's tokenizer among dropped (or listed) files: tokenizer.json (with
// tokenizer_config.json when present) or llama2.c's tokenizer.bin.
import type { ByteSource } from '../../data/byteSource';
import { DataFileError } from '../../data/errors';
import { MAX_TOKENIZER_BYTES } from '../../data/tokenText';
import { hfTokenizer } from './hf';
import { Llama2cTokenizer, parseLlama2cTokenizer } from './llama2c';
import type { LmTokenizer } from './types';

export type { LmTokenizer } from './types';
export { hfTokenizer } from './hf';
export { Llama2cTokenizer, parseLlama2cTokenizer } from './llama2c';

async function readAll(src: ByteSource): Promise<Uint8Array> {
  if (src.size > MAX_TOKENIZER_BYTES)
    throw new DataFileError(
      src.name,
      `${src.size} bytes is too large for a tokenizer (limit ${MAX_TOKENIZER_BYTES})`,
    );
  return src.read(0, src.size);
}

async function readJson(src: ByteSource): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(await readAll(src)));
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    throw new DataFileError(src.name, `not valid JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DataFileError(src.name, 'not a JSON object');
  return v as Record<string, unknown>;
}

/** llama2.c's tokenizer as an LmTokenizer (documents encoded with run.c's dummy prefix, no BOS). */
export function llama2cLmTokenizer(tok: Llama2cTokenizer): LmTokenizer {
  const known = (id: number) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize;
  return {
    name: tok.name,
    kind: 'llama2c',
    vocabSize: tok.vocabSize,
    bosId: tok.bosId,
    eosId: tok.eosId,
    padId: null,
    encode: (text) => tok.encode(text),
    decode: (ids) => tok.decode(ids),
    tokenText: {
      name: tok.name,
      kind: 'tokenizer',
      size: tok.vocabSize,
      // run.c's BOS / EOS pieces are "\n<s>\n" / "\n</s>\n" (tokenizer.py): shown as <s> / </s>.
      text: (id) =>
        !known(id)
          ? `[${id}]`
          : id === tok.bosId || id === tok.eosId
            ? tok.tokenText(id).trim()
            : tok.tokenText(id),
      known,
      special: (id) => id === 0 || id === tok.bosId || id === tok.eosId,
    },
  };
}

/**
 * The tokenizer among `files`, checked against the model's vocabulary size when given (a llama2.c
 * tokenizer.bin has no size of its own: run.c reads the model's).
 */
export async function loadLmTokenizer(files: ByteSource[], vocabSize?: number): Promise<LmTokenizer> {
  const base = (f: ByteSource) => f.name.slice(f.name.lastIndexOf('/') + 1);
  const json = files.find((f) => base(f) === 'tokenizer.json');
  const bin = files.find((f) => base(f) === 'tokenizer.bin');
  let tok: LmTokenizer;
  if (json) {
    const cfgSrc = files.find((f) => base(f) === 'tokenizer_config.json');
    tok = await hfTokenizer(await readJson(json), json.name, cfgSrc ? await readJson(cfgSrc) : {});
    if (vocabSize !== undefined && tok.vocabSize > vocabSize)
      throw new DataFileError(
        json.name,
        `the tokenizer has ${tok.vocabSize} tokens, the model's vocabulary ${vocabSize}`,
      );
  } else if (bin) {
    tok = llama2cLmTokenizer(
      new Llama2cTokenizer(parseLlama2cTokenizer(await readAll(bin), bin.name, vocabSize), bin.name),
    );
  } else {
    throw new DataFileError(
      files[0]?.name ?? 'tokenizer',
      `no tokenizer among the files (${files.map(base).join(', ') || 'nothing'}): expected tokenizer.json or tokenizer.bin`,
    );
  }
  return tok;
}
