// `eval --sae DIR --data FILE...|--dataset builtin:PRESET`: load any SAE folder the app imports
// (SAELens v6 / pre-6, sparsify, TempoSAE), run it forward on the GPU over the data and print the SPEC §6
// metrics as one JSON line. The folder's weights take raw activations (input scaling is folded in),
// so the data is not rescaled. `--split heldout` evaluates on the held-out sequences a TempoSAE run with
// the folder's seed and batch shape kept out of training (the default for TempoSAE folders); `--split all`
// on every sequence (the default for other folders).
// `--model DIR --text FILE...` adds loss recovered (SPEC §10, src/lm/gpu/lossRecovered.ts): the model
// folder's tokenizer packs the text into rows as SAELens does, the SAE is spliced in at its cfg.json
// hook_name (or --hook-name), and the SAEBench core numbers join the JSON line. With --model alone (no
// --data / --dataset) the line holds those numbers only.
import { createBatcher } from '../data/batcher';
import { importSaeFolder } from '../io/importSae';
import { validateConfig, type TrainConfig } from '../sae/config';
import { createTrainer } from '../sae/trainer';
import { flag, flagList, flagNumber, UsageError, type ParsedArgs } from './args';
import { dataSpecFromFlags, openCliData } from './data';
import { gpuFor, jsonLine, type CliEnv } from './env';
import { readFolder } from './runFolder';
import { evaluateTrainer, numericMetrics } from './train';
import { batcherOptionsFor } from '../sae/runBatcher';
import { lossRecoveredFromFlags } from './lossRecoveredCli';

export async function evalCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const dir = flag(a, 'sae');
  if (!dir) throw new UsageError('eval needs --sae DIR (a SAELens, sparsify or TempoSAE folder)');
  const imp = importSaeFolder(readFolder(dir), dir);
  for (const w of imp.warnings) env.err.write(`note: ${w}\n`);
  const spec = dataSpecFromFlags(
    flag(a, 'dataset'),
    flagList(a, 'data'),
    flagNumber(a, 'data-seed'),
    flagNumber(a, 'data-seq-len'),
    flag(a, 'hook-name'),
  );
  const modelDir = flag(a, 'model');
  if (!spec && !modelDir)
    throw new UsageError(
      'eval needs --data FILE... or --dataset builtin:PRESET, or --model DIR --text FILE...',
    );
  const gpu = await gpuFor(a, env);
  const lossRecovered = modelDir ? await lossRecoveredFromFlags(a, env, imp, modelDir, gpu) : {};
  if (!spec) {
    env.out(jsonLine({ command: 'eval', sae: dir, format: imp.format, ...lossRecovered }));
    return 0;
  }
  const data = await openCliData(spec);
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
    doc_start_token_ids: 'builtin' in spec ? [0] : imp.config.doc_start_token_ids,
  };
  const problems = validateConfig(cfg);
  if (problems.length) throw new UsageError(`cannot evaluate with this batch shape: ${problems.join('; ')}`);
  const batcher = await createBatcher(
    data.source,
    batcherOptionsFor(cfg, split === 'heldout' ? {} : { heldOutSource: data.source }),
  );
  const trainer = await createTrainer(gpu, cfg, imp.weights);
  try {
    const ev = await evaluateTrainer(trainer, () => batcher.heldOutBatches(), data, imp.weights.W_dec);
    env.out(
      jsonLine({
        command: 'eval',
        sae: dir,
        format: imp.format,
        data: data.label,
        split,
        ...numericMetrics(ev),
        ...lossRecovered,
      }),
    );
  } finally {
    trainer.destroy();
  }
  return 0;
}
