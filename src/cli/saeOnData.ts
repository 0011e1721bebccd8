// What `eval` and `inspect` do alike to run an imported SAE folder over the data its flags name
// (dataSpecOf, data.ts): the width check, the split (--split heldout|all: held-out sequences of a TempoSAE run with the folder's seed and
// batch shape, the default for TempoSAE folders, or every sequence, the default for other folders), and
// the batch shape (--seq-len, --batch-seqs). The folder's weights take raw activations (its input scaling
// is folded in), so the data is not rescaled.
import { createBatcher, type Batcher } from '../data/batcher';
import type { ImportedSae } from '../io/importSae';
import { validateConfig, type TrainConfig } from '../sae/config';
import { batcherOptionsFor } from '../sae/runBatcher';
import { flag, flagNumber, UsageError, type ParsedArgs } from './args';
import type { OpenedData } from './data';

export interface SaeOnData {
  split: 'heldout' | 'all';
  /** The folder's config with the batch shape the data is read in. */
  cfg: TrainConfig;
  batcher: Batcher;
}

/** The batcher the imported SAE reads `data` through; `verb` names the command in a refusal. */
export async function saeOnData(
  a: ParsedArgs,
  imp: ImportedSae,
  data: OpenedData,
  verb: 'evaluate' | 'inspect',
): Promise<SaeOnData> {
  if (data.source.d !== imp.weights.d_in)
    throw new UsageError(
      `the SAE reads ${imp.weights.d_in}-wide activations but the data is ${data.source.d} wide`,
    );
  const split = flag(a, 'split') ?? (imp.format === 'temposae' ? 'heldout' : 'all');
  if (split !== 'heldout' && split !== 'all')
    throw new UsageError(`--split must be heldout or all (got '${split}')`);
  const seqLen = flagNumber(a, 'seq-len') ?? Math.min(imp.config.context_size, data.source.seqLen);
  const cfg: TrainConfig = {
    ...imp.config,
    seqs_per_batch: flagNumber(a, 'batch-seqs') ?? imp.config.seqs_per_batch,
    context_size: seqLen,
    normalize_activations: 'none',
    doc_start_token_ids: 'builtin' in data.spec ? [0] : imp.config.doc_start_token_ids,
  };
  const problems = validateConfig(cfg);
  if (problems.length) throw new UsageError(`cannot ${verb} with this batch shape: ${problems.join('; ')}`);
  const batcher = await createBatcher(
    data.source,
    batcherOptionsFor(cfg, split === 'heldout' ? {} : { heldOutSource: data.source }),
  );
  return { split, cfg, batcher };
}
