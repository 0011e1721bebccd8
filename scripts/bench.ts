// `npm run bench [-- --cases small|all --steps N --warmup N --no-peer --no-extras]`
// Prints one JSON line per measurement (see bench/run.ts and README's Benchmarks section). Runs in Node
// on Dawn's WebGPU: a real GPU when Vulkan finds one, SwiftShader otherwise (slow; see the README).
import { parseBenchArgs } from '../bench/cases';
import { runBench } from '../bench/run';

export async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const args = argv.length ? ` -- ${argv.join(' ')}` : '';
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${args}`
      : `node scripts/run-ts.mjs scripts/bench.ts${argv.length ? ' ' + argv.join(' ') : ''}`;
  await runBench(opts, command, (line) => console.log(JSON.stringify(line)));
  return 0;
}
