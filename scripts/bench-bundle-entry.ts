// Entry point of the bundled benchmark (`npm run bench:bundle`, scripts/bundle-bench.mjs): scripts/bench.ts
// with everything it imports inside one file, so that `node bench.mjs [flags]` runs where there is no
// node_modules. tf.js's gradient functions are imported here statically (in Node without a bundle they
// need a resolve hook, bench/tfjsNode.ts); Dawn's native module comes from the folder's own
// node_modules/webgpu.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { tfjsGradientsBundled } from '../bench/tfjsNode';
import { main } from './bench';

tfjsGradientsBundled();
// The JSON lines' `command` names how this run was started.
process.env.TEMPOSAE_BENCH_ENTRY ??= 'node bench.mjs';
process.exitCode = await main(process.argv.slice(2));
