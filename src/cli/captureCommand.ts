// `capture --model DIR --text FILE... --hook NAME [--context-size T] --out DIR`: the model's activations
// at one hook over packed text, written as a SAELens activation cache folder (src/lm/capture/
// saelensCache.ts) that `train --data DIR` and Python's datasets.load_from_disk read back.
//   --model DIR        HF folder (config.json + model.safetensors + tokenizer.json) or llama2.c .bin +
//                      tokenizer.bin
//   --text FILE...     .txt / .md (one document, or --txt-split paragraph|line), .jsonl / .json (field
//                      --text-field, default "text"), .parquet (a text column)
//   --context-size T   tokens per row (default 128, SAELens's); rows packed as SAELens packs them
//   --batch-seqs S     rows per forward (default 16);  --max-rows N  stop after N rows
//   --center           TransformerLens center_writing_weights (GPT-2 only; stored in the cache's description)
//   --no-prepend-bos   pack without BOS rows and separators;  --weights f16  half-precision weights
// Prints one JSON line: rows, tokens, hook_name, context_size, d_in, out, files, tokens_per_s.
import { appendFile, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ByteSource } from '../data/byteSource';
import type { ActivationSource } from '../data/types';
import type { GpuContext } from '../gpu/device';
import { fileByteSource } from '../data/nodeByteSource';
import { capture, gpuHookForward } from '../lm/capture/capture';
import { SaeLensCacheWriter, type CacheSink } from '../lm/capture/saelensCache';
import { collectRows, lmActivationSource } from '../lm/capture/source';
import { loadModelFiles } from '../lm/load';
import {
  packTexts,
  type DocumentOptions,
  type PackedRow,
  type PackTextOptions,
  type TxtSplit,
} from '../lm/text';
import { loadLmTokenizer, type LmTokenizer } from '../lm/tokenizer';
import { flag, flagList, flagNumber, UsageError, type ParsedArgs } from './args';
import { gpuFor, jsonLine, type CliEnv } from './env';

export const DEFAULT_CAPTURE_CONTEXT = 128;
export const DEFAULT_CAPTURE_BATCH = 16;

/** A folder on disk as the cache writer's sink. */
export function dirSink(dir: string): CacheSink {
  return {
    append: (name, bytes) => appendFile(path.join(dir, name), bytes),
    rename: (from, to) => rename(path.join(dir, from), path.join(dir, to)),
    writeText: (name, text) => writeFile(path.join(dir, name), text),
  };
}

/** Every file of a model folder as a ByteSource (closed by the caller). */
export async function modelFolderFiles(dir: string): Promise<ByteSource[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new UsageError(`--model ${dir}: ${(e as Error).message}`);
  }
  const files: ByteSource[] = [];
  for (const n of names)
    if ((await stat(path.join(dir, n))).isFile()) files.push(await fileByteSource(path.join(dir, n)));
  return files;
}

/** The text and weight flags capture, `train --model` and `eval --model` share. */
export interface LmTextFlags {
  /** --center: TransformerLens center_writing_weights. */
  center: boolean;
  /** Off with --no-prepend-bos. */
  prependBos: boolean;
  /** --txt-split file|paragraph|line and --text-field (how documents are read from the text files). */
  documents: DocumentOptions & { txtSplit: TxtSplit };
  /** --weights f32|f16. */
  weights: 'f32' | 'f16';
}

export function lmTextFlags(a: ParsedArgs): LmTextFlags {
  const txtSplit = (flag(a, 'txt-split') ?? 'file') as TxtSplit;
  if (!['file', 'paragraph', 'line'].includes(txtSplit))
    throw new UsageError(`--txt-split takes file, paragraph or line (got ${txtSplit})`);
  const weights = (flag(a, 'weights') ?? 'f32') as 'f32' | 'f16';
  if (weights !== 'f32' && weights !== 'f16')
    throw new UsageError(`--weights takes f32 or f16 (got ${weights})`);
  return {
    center: flag(a, 'center') === 'true',
    prependBos: flag(a, 'no-prepend-bos') !== 'true',
    documents: { field: flag(a, 'text-field'), txtSplit },
    weights,
  };
}

/** The --text files as byte sources (closed by the caller); one that cannot be opened is named. */
async function openTexts(texts: string[], into: ByteSource[]): Promise<ByteSource[]> {
  for (const t of texts)
    into.push(
      await fileByteSource(t).catch((e) =>
        Promise.reject(new UsageError(`--text ${t}: ${(e as Error).message}`)),
      ),
    );
  return into;
}

/**
 * The --text files packed into rows of `contextSize` tokens as SAELens packs them (at most `maxRows`),
 * the files closed afterwards; refused when the text makes no full row.
 */
export async function packTextFiles(
  texts: string[],
  tok: LmTokenizer,
  opts: PackTextOptions,
): Promise<PackedRow[]> {
  const sources: ByteSource[] = [];
  try {
    const rows = await collectRows(packTexts(await openTexts(texts, sources), tok, opts), opts.maxRows);
    if (!rows.length)
      throw new UsageError(
        `the text makes no full row of ${opts.contextSize} tokens (SAELens drops the last partial row)`,
      );
    return rows;
  } finally {
    await Promise.all(sources.map((f) => f.close?.()));
  }
}

function positive(a: ParsedArgs, name: string, dflt: number): number {
  const v = flagNumber(a, name) ?? dflt;
  if (!(Number.isInteger(v) && v >= 1))
    throw new UsageError(`--${name} must be a positive integer (got ${v})`);
  return v;
}

export async function captureCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const modelDir = flag(a, 'model');
  const out = flag(a, 'out');
  const hook = flag(a, 'hook') ?? flag(a, 'hook-name');
  const texts = flagList(a, 'text');
  if (!modelDir || !out || !hook || texts.length === 0)
    throw new UsageError('capture needs --model DIR --text FILE... --hook blocks.L.hook_… --out DIR');
  const T = positive(a, 'context-size', DEFAULT_CAPTURE_CONTEXT);
  const S = positive(a, 'batch-seqs', DEFAULT_CAPTURE_BATCH);
  const maxRows = flagNumber(a, 'max-rows');
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 1))
    throw new UsageError(`--max-rows must be a positive integer (got ${maxRows})`);
  const { center, prependBos, documents, weights } = lmTextFlags(a);

  const files = await modelFolderFiles(modelDir);
  const textSources: ByteSource[] = [];
  try {
    const model = await loadModelFiles(files);
    const tok = await loadLmTokenizer(files, model.config.vocab_size);
    await openTexts(texts, textSources);
    const d = model.config.d_model;
    const gpu = await gpuFor(a, env);
    const run = gpuHookForward(gpu, model, S, { hook, T, center, weights });
    await mkdir(out, { recursive: true });
    const existing = (await readdir(out)).filter((n) => n.endsWith('.arrow') || n.endsWith('.json'));
    if (existing.length)
      throw new UsageError(`--out ${out} already holds ${existing.join(', ')}; give an empty folder`);
    const writer = new SaeLensCacheWriter(dirSink(out), {
      hookName: hook,
      T,
      d,
      description: {
        model: model.config.source,
        model_dir: modelDir,
        family: model.config.family,
        hook_name: hook,
        context_size: T,
        prepend_bos: prependBos,
        center_writing_weights: center,
        tokenizer: tok.name,
        weights,
      },
    });
    env.err.write(
      `capture: ${hook} of ${model.config.source} (d ${d}), rows of ${T} tokens, ${S} per forward\n`,
    );
    const t0 = performance.now();
    let result;
    try {
      result = await capture(
        packTexts(textSources, tok, { contextSize: T, prependBos, documents }),
        run.forward,
        S,
        T,
        { append: (x, ids, _start, n) => writer.append(x, ids, n) },
        { maxRows, onBatch: (n) => env.err.write(`  ${n} rows\n`) },
      );
    } finally {
      run.destroy();
    }
    if (result.rows === 0)
      throw new UsageError(`the text makes no full row of ${T} tokens (SAELens drops the last partial row)`);
    const { files: shards } = await writer.finish();
    const seconds = (performance.now() - t0) / 1000;
    env.out(
      jsonLine({
        command: 'capture',
        out,
        files: [...shards, 'dataset_info.json', 'state.json'],
        rows: result.rows,
        tokens: result.tokens,
        hook_name: hook,
        context_size: T,
        d_in: d,
        model: modelDir,
        family: model.config.family,
        prepend_bos: prependBos,
        center_writing_weights: center,
        weights,
        seconds,
        forward_tokens_per_s: result.forwardSeconds > 0 ? result.tokens / result.forwardSeconds : null,
      }),
    );
    return 0;
  } finally {
    await Promise.all([...files, ...textSources].map((f) => f.close?.()));
  }
}

/**
 * `train --model DIR --text FILE... --hook NAME`: the model's activations stream into training with no
 * file in between (src/lm/capture/source.ts). Stored in checkpoints, so `--resume` finds the same data.
 */
export interface LmDataSpec {
  model: string;
  text: string[];
  hook: string;
  contextSize: number;
  center: boolean;
  prependBos: boolean;
  maxRows?: number;
  textField?: string;
  txtSplit?: TxtSplit;
  /** Rows per forward. */
  batchRows: number;
}

/** The LM data spec from train's flags, or null without --model. */
export function lmSpecFromFlags(a: ParsedArgs): LmDataSpec | null {
  const model = flag(a, 'model');
  if (!model) return null;
  const text = flagList(a, 'text');
  const hook = flag(a, 'hook') ?? flag(a, 'hook-name');
  if (!text.length || !hook)
    throw new UsageError('train --model DIR needs --text FILE... and --hook blocks.L.hook_…');
  if (a.flags.has('data') || a.flags.has('dataset'))
    throw new UsageError('give --model with --text, or --data / --dataset, not both');
  const { center, prependBos, documents } = lmTextFlags(a);
  return {
    model: path.resolve(model),
    text: text.map((t) => path.resolve(t)),
    hook,
    contextSize: flagNumber(a, 'context-size') ?? flagNumber(a, 'seq-len') ?? DEFAULT_CAPTURE_CONTEXT,
    center,
    prependBos,
    maxRows: flagNumber(a, 'max-rows'),
    textField: documents.field,
    txtSplit: documents.txtSplit,
    batchRows: positive(a, 'capture-batch-seqs', DEFAULT_CAPTURE_BATCH),
  };
}

/**
 * Opens the model as train's data source: token ids packed once (4 bytes a token held), activations
 * computed by the GPU forward whenever the batcher reads sequences. `docStartTokenIds` is the BOS
 * separator, for the batcher's document starts.
 */
export async function openLmCliData(
  spec: LmDataSpec,
  gpu: () => Promise<GpuContext>,
): Promise<{
  source: ActivationSource;
  label: string;
  spec: LmDataSpec;
  truth: null;
  docStartTokenIds: number[];
}> {
  const files = await modelFolderFiles(spec.model);
  try {
    const model = await loadModelFiles(files);
    const tok = await loadLmTokenizer(files, model.config.vocab_size);
    const rows = await packTextFiles(spec.text, tok, {
      contextSize: spec.contextSize,
      prependBos: spec.prependBos,
      documents: { field: spec.textField, txtSplit: spec.txtSplit },
      maxRows: spec.maxRows,
    });
    const run = gpuHookForward(await gpu(), model, spec.batchRows, {
      hook: spec.hook,
      T: spec.contextSize,
      center: spec.center,
    });
    const label = `${model.config.source} ${spec.hook}${spec.center ? ' (centred)' : ''}, ${rows.length} rows of ${spec.contextSize}`;
    const source = lmActivationSource({
      name: label,
      rows,
      T: spec.contextSize,
      d: model.config.d_model,
      forward: run.forward,
      batchRows: spec.batchRows,
    });
    const docStartTokenIds = spec.prependBos && tok.bosId !== null ? [tok.bosId] : [];
    return { source, label, spec, truth: null, docStartTokenIds };
  } finally {
    await Promise.all(files.map((f) => f.close?.()));
  }
}
