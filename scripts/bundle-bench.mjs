// `npm run bench:bundle [-- --out DIR] [--platform linux-x64,...]`: writes one self-contained folder
// (default dist-bench/) that runs the benchmark with plain `node` where there is a GPU but no
// node_modules and no network:
//   bench.mjs                     scripts/bench-bundle-entry.ts with every import inside (Vite's SSR build:
//                                 .wgsl?raw shaders, tf.js for the peer, our sources), ES module
//   node_modules/webgpu/          Dawn: the package's index.js + package.json and dawn.node for each
//                                 platform asked for (default: this machine's), found by `import 'webgpu'`
//   README.txt                    how to run it
// Then e.g. `scp -r dist-bench gpu-host: && ssh gpu-host node dist-bench/bench.mjs --no-extras`.
import { cpSync, existsSync, mkdirSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (flag, dflt) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : dflt;
};
const here = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
const out = resolve(root, opt('--out', 'dist-bench'));
const platforms = opt('--platform', here).split(',');
const LIMIT = 60 * 1024 * 1024;

const webgpu = join(root, 'node_modules', 'webgpu');
for (const p of platforms)
  if (!existsSync(join(webgpu, 'dist', p, 'dawn.node'))) {
    console.error(`bench:bundle: no Dawn build for ${p} in node_modules/webgpu/dist`);
    process.exit(2);
  }

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  configFile: false,
  root,
  logLevel: 'warn',
  // The bundle must not look for anything at run time except Dawn's package (native, loaded by path).
  ssr: { noExternal: true, external: ['webgpu'], target: 'node' },
  build: {
    ssr: join(root, 'scripts/bench-bundle-entry.ts'),
    outDir: out,
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    sourcemap: false,
    copyPublicDir: false,
    rollupOptions: { output: { entryFileNames: 'bench.mjs', format: 'es', codeSplitting: false } },
  },
});

const dest = join(out, 'node_modules', 'webgpu');
mkdirSync(dest, { recursive: true });
for (const f of ['index.js', 'package.json', 'LICENSE.md']) cpSync(join(webgpu, f), join(dest, f));
for (const p of platforms) cpSync(join(webgpu, 'dist', p), join(dest, 'dist', p), { recursive: true });
writeFileSync(
  join(out, 'README.txt'),
  [
    'TempoSAE benchmark, bundled (npm run bench:bundle). Needs Node 20+ and a WebGPU adapter (Vulkan, Metal or D3D12).',
    '',
    '  node bench.mjs                      the default cases; one JSON line per measurement',
    '  node bench.mjs --cases all --no-extras',
    '  node bench.mjs --case 64,512,1024 --no-peer --no-linearity --adapter swiftshader',
    '',
    `Dawn builds included: ${platforms.join(', ')}. Flags: see bench/cases.ts in the repository.`,
    '',
  ].join('\n'),
);

const size = (p) =>
  statSync(p).isDirectory() ? readdirSync(p).reduce((a, f) => a + size(join(p, f)), 0) : statSync(p).size;
const bytes = size(out);
console.log(`bench:bundle: ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB; Dawn for ${platforms.join(', ')})`);
if (bytes > LIMIT) {
  console.error(`bench:bundle: the folder is over ${LIMIT / 2 ** 20} MiB`);
  process.exit(1);
}
