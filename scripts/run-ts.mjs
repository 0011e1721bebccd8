// Runs a TypeScript entry point of this repo in Node through Vite's module runner, so Node code
// (the CLI, benchmarks) imports the same sources as the app, `.wgsl?raw` shaders included, with no build.
// Usage: node scripts/run-ts.mjs src/cli/main.ts [args...]   (the module must export `main(argv)`)
import { createServer, createServerModuleRunner } from 'vite';

const [entry, ...argv] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const server = await createServer({
  configFile: false,
  root: new URL('..', import.meta.url).pathname,
  server: { middlewareMode: true, hmr: false, watch: null },
  appType: 'custom',
  logLevel: 'error',
  optimizeDeps: { noDiscovery: true, include: [] },
});
let code = 0;
try {
  const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
  const mod = await runner.import(entry.startsWith('/') ? entry : `/${entry}`);
  const result = await mod.main(argv);
  if (typeof result === 'number') code = result;
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  code = 1;
} finally {
  await server.close();
}
process.exit(code);
