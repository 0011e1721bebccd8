// `eval --sae DIR --model DIR --text FILE...`: loss recovered for the CLI (SPEC §10). The model folder
// (HF config.json + model.safetensors + tokenizer.json, or a llama2.c .bin + tokenizer.bin) is loaded
// and its tokenizer encodes each document; documents are packed into rows of --context-size tokens as
// SAELens does (src/lm/text: packTexts); the first --max-rows rows are evaluated on the GPU with the SAE
// spliced in at its hook (src/lm/gpu/lossRecovered.ts). Positions whose input token is the tokenizer's
// pad, EOS or BOS are left out, as SAELens's run_evals does with the tokenizer's ids.
// Documents: src/lm/text/documents.ts (.txt whole, .jsonl / .json text field, .parquet text column).
import type { GpuContext } from '../gpu/device';
import type { ImportedSae } from '../io/importSae';
import { evaluateLossRecovered } from '../lm/gpu/lossRecovered';
import { loadModelFiles } from '../lm/load';
import { loadLmTokenizer } from '../lm/tokenizer';
import { flag, flagList, flagNumber, UsageError, type ParsedArgs } from './args';
import { lmTextFlags, modelFolderFiles, packTextFiles } from './captureCommand';
import type { CliEnv } from './env';

/** SAELens's evaluation context (run_evals' ctx_lens default) and rows (10 batches × 16 prompts). */
export const DEFAULT_LR_CONTEXT = 128;
export const DEFAULT_LR_ROWS = 160;

/** Runs the measurement the flags ask for and returns the fields it adds to eval's JSON line. */
export async function lossRecoveredFromFlags(
  a: ParsedArgs,
  env: CliEnv,
  imp: ImportedSae,
  modelDir: string,
  gpu: GpuContext,
): Promise<Record<string, number | string | boolean>> {
  const texts = flagList(a, 'text');
  if (!texts.length) throw new UsageError('eval --model DIR needs --text FILE... (the held-out text)');
  const hook = flag(a, 'hook-name') ?? imp.provenance.hook_name ?? null;
  if (!hook)
    throw new UsageError(`${imp.name}: cfg.json names no hook_name; give --hook-name blocks.L.hook_…`);
  const T = flagNumber(a, 'context-size') ?? DEFAULT_LR_CONTEXT;
  const maxRows = flagNumber(a, 'max-rows') ?? DEFAULT_LR_ROWS;
  if (!(Number.isInteger(maxRows) && maxRows >= 1))
    throw new UsageError(`--max-rows must be a positive integer`);
  // The same text and weight flags as capture (src/cli/captureCommand.ts).
  const { center, prependBos, documents, weights } = lmTextFlags(a);
  const files = await modelFolderFiles(modelDir);
  try {
    const model = await loadModelFiles(files);
    const tok = await loadLmTokenizer(files, model.config.vocab_size);
    const rows = await packTextFiles(texts, tok, { contextSize: T, maxRows, prependBos, documents });
    const ids = new Int32Array(rows.length * T);
    rows.forEach((r, i) => ids.set(r.ids, i * T));
    const ignore = [...new Set([tok.padId, tok.eosId, tok.bosId].filter((v): v is number => v !== null))];
    env.err.write(
      `loss recovered: ${rows.length} rows of ${T} tokens at ${hook} of ${model.config.source}\n`,
    );
    const held = { weights: imp.weights, config: imp.config, scaling_factor: 1 };
    const m = await evaluateLossRecovered(gpu, model, hook, held, ids, T, {
      batchRows: flagNumber(a, 'batch-seqs') ?? 8,
      ignore,
      center,
      weights,
    });
    return {
      model: modelDir,
      hook_name: hook,
      context_size: T,
      rows: rows.length,
      centered: center,
      prepend_bos: prependBos,
      weights,
      ...m,
    };
  } finally {
    await Promise.all(files.map((f) => f.close?.()));
  }
}
