// TempoSAE on the command line: `npm run cli -- <command> [flags]` (scripts/run-ts.mjs calls main).
// Commands: train, eval, inspect, export, experiment, help. Every command prints its result as one JSON object on the last
// line of stdout; progress and notes go to stderr. Exit codes: 0 ok, 1 failure, 2 usage error,
// 130 interrupted (a checkpoint was saved).
import { SaeFileError } from '../io/errors';
import { DEFAULT_CONFIG } from '../sae/config';
import { CONFIG_ALIASES, parseArgs, UsageError } from './args';
import { captureCommand } from './captureCommand';
import { nodeEnv, type CliEnv } from './env';
import { evalCommand } from './evalCommand';
import { experimentCommand } from './experimentCommand';
import { exportCommand } from './exportCommand';
import { inspectCommand } from './inspectCommand';
import { trainCommand } from './train';

export function usage(): string {
  const fields = Object.entries(DEFAULT_CONFIG)
    .map(([k, v]) => `  --${k.replace(/_/g, '-')} (${JSON.stringify(v)})`)
    .join('\n');
  const aliases = Object.entries(CONFIG_ALIASES)
    .map(([a, f]) => `--${a} = --${f.replace(/_/g, '-')}`)
    .join(', ');
  return `usage: npm run cli -- <command> [flags]

train   --dataset builtin:PRESET | --data FILE...   --out DIR   [--steps N] [config flags]
        [--config FILE.json] [--resume DIR] [--stop-at STEP] [--name NAME] [--data-seed N]
        [--data-seq-len T] [--hook-name NAME] [--adapter auto|swiftshader]
        [--model DIR --text FILE... --hook NAME [--context-size T] [--center]]  a model's activations, no file
        [--report [3,17,42]]  also report.html in --out (curves, metrics, clustering, feature contexts)
eval    --sae DIR  --dataset builtin:PRESET | --data FILE...  [--split heldout|all] [--batch-seqs S]
        [--seq-len T] [--adapter auto|swiftshader]
        [--model DIR --text FILE... [--hook-name NAME] [--context-size T] [--max-rows R] [--center]
        [--no-prepend-bos] [--txt-split …] [--text-field F] [--weights f32|f16]]  adds loss recovered
        (ce_loss_score, kl_div_score, … as SAEBench); --model without --data prints only those
inspect --sae DIR  --dataset builtin:PRESET | --data FILE...  --features 3,17,42  [--tokenizer FILE]
        [--top K (20)] [--before B (12)] [--after A (4)] [--split heldout|all] [--batch-seqs S]
        [--seq-len T] [--max-batches N] [--out FILE.json]
export  --run DIR --zip FILE | --checkpoint FILE --out DIR [--zip FILE]
experiment --config FILE.json --out DIR   methods × seeds, one run after another (resumable), then
        table.json / table.csv / report.html: mean ± t interval per metric and one sentence each
capture --model DIR --text FILE... --hook blocks.L.hook_NAME --out DIR  [--context-size T] [--batch-seqs S]
        [--max-rows N] [--center] [--no-prepend-bos] [--text-field F] [--txt-split file|paragraph|line]
        [--weights f32|f16]   writes a SAELens activation cache folder (train --data DIR reads it)

Config flags (default in brackets; SAELens names, dashes for underscores):
${fields}
Aliases: ${aliases}
--steps N sets training_tokens = N × seqs_per_batch × context_size.`;
}

export async function main(argv: string[], env: CliEnv = nodeEnv()): Promise<number> {
  try {
    const a = parseArgs(argv);
    switch (a.command) {
      case 'train':
        return await trainCommand(a, env);
      case 'eval':
        return await evalCommand(a, env);
      case 'inspect':
        return await inspectCommand(a, env);
      case 'export':
        return await exportCommand(a, env);
      case 'experiment':
        return await experimentCommand(a, env);
      case 'capture':
        return await captureCommand(a, env);
      case 'help':
      case '--help':
      case '-h':
        env.out(usage());
        return 0;
      default:
        throw new UsageError(`unknown command '${a.command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      env.err.write(`error: ${e.message}\n\n${usage()}\n`);
      return 2;
    }
    env.err.write(`error: ${e instanceof SaeFileError || e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
