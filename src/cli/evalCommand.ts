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
import { importSaeFolder } from '../io/importSae';
import { createTrainer } from '../sae/trainer';
import { flag, UsageError, type ParsedArgs } from './args';
import { dataSpecOf, openCliData } from './data';
import { gpuFor, jsonLine, type CliEnv } from './env';
import { readFolder } from './runFolder';
import { evaluateTrainer, numericMetrics } from './train';
import { lossRecoveredFromFlags } from './lossRecoveredCli';
import { saeOnData } from './saeOnData';

export async function evalCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const dir = flag(a, 'sae');
  if (!dir) throw new UsageError('eval needs --sae DIR (a SAELens, sparsify or TempoSAE folder)');
  const imp = importSaeFolder(readFolder(dir), dir);
  for (const w of imp.warnings) env.err.write(`note: ${w}\n`);
  const spec = dataSpecOf(a);
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
  const { split, cfg, batcher } = await saeOnData(a, imp, data, 'evaluate');
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
