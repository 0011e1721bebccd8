// Public surface of src/io: SAE folders (SAELens v6 / pre-6 / sparsify / TempoSAE), checkpoints,
// metric histories, zip, strict safetensors. Pure functions over bytes: no GPU, no DOM, no Node APIs,
// so the app (OPFS, downloads) and the CLI (node:fs) share them.
export { SaeFileError } from './errors';
export * from './safetensors';
export * from './saelensCfg';
export * from './fold';
export * from './history';
export * from './exportSae';
export * from './importSae';
export * from './checkpoint';
export * from './zip';
