// `npm run bench [-- --cases small|all --steps N --warmup N --no-peer --no-extras --no-capture --capture-only]`
// Prints one JSON line per measurement (see bench/run.ts and README's Benchmarks section). Runs in Node
// on Dawn's WebGPU: a real GPU when Vulkan finds one, SwiftShader otherwise (slow; see the README).
import { parseBenchArgs } from '../bench/cases';
import { runCaptureBench } from '../bench/capture';
import { runBench } from '../bench/run';

export async function main(argv: string[]): Promise<number> {
  // The language model's capture lines (bench/capture.ts): --no-capture skips them, --capture-only
  // runs them alone (then without the trainer_step lines they compare with).
  const noCapture = argv.includes('--no-capture');
  const captureOnly = argv.includes('--capture-only');
  const rest = argv.filter((a) => a !== '--no-capture' && a !== '--capture-only');
  let opts;
  try {
    opts = parseBenchArgs(rest);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const args = argv.length ? ` -- ${argv.join(' ')}` : '';
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${args}`
      : `${process.env.TEMPOSAE_BENCH_ENTRY ?? 'node scripts/run-ts.mjs scripts/bench.ts'}${argv.length ? ' ' + argv.join(' ') : ''}`;
  const lines: Record<string, unknown>[] = [];
  const print = (line: Record<string, unknown>) => (lines.push(line), console.log(JSON.stringify(line)));
  if (!captureOnly) await runBench(opts, command, print);
  if (!noCapture) await runCaptureBench(opts, command, lines, print);
  return 0;
}
