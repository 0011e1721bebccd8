// TensorFlow.js in Node needs one extra step for autodiff. The packages' Node builds (CommonJS) carry
// the ops and the WebGPU kernels but not the gradient functions: those are registered by tfjs-core's
// ES-module file dist/register_all_gradients.js (the `@tensorflow/tfjs` union package imports it; we do
// not depend on that package). Node cannot load tfjs-core's ES-module files as they are, because they
// import each other without file extensions ('./gradients/Abs_grad'). A resolve hook that retries such
// relative imports with '.js' (then '/index.js') inside @tensorflow packages lets Node load the file. The gradients land in
// tf.js's process-wide registry (kept on globalThis), so the CommonJS copy that runs the ops finds them;
// tf.js's Tensor/Variable classes define Symbol.hasInstance for exactly this two-copy situation.
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const inTfjs = context.parentURL && context.parentURL.includes('/node_modules/@tensorflow/');
    const code = e && e.code;
    if (!inTfjs || !specifier.startsWith('.') || specifier.endsWith('.js')) throw e;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT') throw e;
    // './gradients' may name both gradients.js and a gradients/ folder: the file wins, as in bundlers.
    try {
      return await next(specifier + '.js', context);
    } catch {
      return next(specifier + '/index.js', context);
    }
  }
}`;

let loaded: Promise<void> | undefined;

/**
 * The bundled benchmark (scripts/bench-bundle-entry.ts) imports tf.js's ES modules, gradients included,
 * into the bundle itself: one copy, nothing left to load from node_modules.
 */
export function tfjsGradientsBundled(): void {
  loaded = Promise.resolve();
}

/** Register every tf.js gradient function (idempotent). Call before tf.grad / tf.variableGrads in Node. */
export function registerTfjsGradients(): Promise<void> {
  loaded ??= (async () => {
    // The main (CommonJS) copy must create tf.js's engine first: the engine builds every tensor with its
    // own copy's Tensor class, and only the main copy has the chained-op methods (tensor.cast, …) set up.
    await import('@tensorflow/tfjs-core');
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
    // A computed specifier keeps bundlers and Vite's import analysis from touching this Node-only path.
    const file = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
    await import(/* @vite-ignore */ file);
  })();
  return loaded;
}
