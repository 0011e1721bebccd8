// Opening the CLI's activations: `--dataset builtin:PRESET` (the synthetic dataset of SPEC §8, seed
// from --data-seed, default the app's 1234) or `--data FILE...` (npy, npz, safetensors, SAELens cache
// folder files), through the same parsers as the app. The spec is stored in checkpoints so that
// `--resume` finds the same data without repeating the flags.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { openDataset } from '../data/dataset';
import { nodeScratch } from '../data/nodeScratch';
import { fileByteSource } from '../data/nodeByteSource';
import {
  createSyntheticSource,
  SYNTHETIC_PRESETS,
  syntheticConfig,
  type SyntheticPreset,
  type SyntheticSource,
} from '../data/synthetic';
import type { ActivationSource } from '../data/types';
import type { GpuContext } from '../gpu/device';
import { flag, flagList, flagNumber, UsageError, type ParsedArgs } from './args';
import { openLmCliData, type LmDataSpec } from './captureCommand';

/** The app's built-in dataset seed (src/app/dataSession.ts BUILTIN_DATA_SEED), so CLI and app data agree. */
export const BUILTIN_DATA_SEED = 1234;

export type DataSpec =
  { builtin: string; seed: number } | { files: string[]; seqLen?: number; hookName?: string } | LmDataSpec;

export interface OpenedData {
  source: ActivationSource;
  label: string;
  spec: DataSpec;
  /** Synthetic data only: the true dictionary, for mmcs / recovered. */
  truth: { trueDict: Float32Array; F: number } | null;
  /** A model's text (--model): its BOS separator, the batcher's document-start token. */
  docStartTokenIds?: number[];
}

/** Files of a folder argument (a SAELens cache is a folder), else the file itself. */
function expand(p: string): string[] {
  if (!statSync(p, { throwIfNoEntry: false })) throw new UsageError(`--data: ${p} does not exist`);
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .filter((n) => !n.startsWith('.'))
    .map((n) => path.join(p, n))
    .filter((f) => statSync(f).isFile());
}

export async function openCliData(spec: DataSpec, gpu?: () => Promise<GpuContext>): Promise<OpenedData> {
  // A model over text (train --model): activations computed on the GPU as the batcher reads them.
  if ('model' in spec) {
    if (!gpu) throw new UsageError('--model data needs a GPU');
    return openLmCliData(spec, gpu);
  }
  if ('builtin' in spec) {
    const preset = spec.builtin;
    if (!(preset in SYNTHETIC_PRESETS))
      throw new UsageError(
        `unknown built-in dataset '${preset}' (have: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})`,
      );
    const source: SyntheticSource = createSyntheticSource(
      syntheticConfig(preset as SyntheticPreset, spec.seed),
    );
    return {
      source,
      label: `builtin:${preset} (seed ${spec.seed})`,
      spec,
      truth: { trueDict: source.trueDictionary, F: source.F },
    };
  }
  const files = spec.files.flatMap(expand);
  if (!files.length) throw new UsageError('--data: no files');
  // Paths relative to the common folder keep a SAELens cache's files grouped by folder.
  const sources = await Promise.all(
    files.map(async (f) => {
      const s = await fileByteSource(f);
      return { ...s, name: path.relative(process.cwd(), f), read: s.read.bind(s) };
    }),
  );
  const source = await openDataset(sources, {
    seqLen: spec.seqLen,
    hookName: spec.hookName,
    // Deflated .npz members over the in-memory cap are inflated once into the temp folder.
    scratch: nodeScratch(),
  });
  return { source, label: source.name, spec, truth: null };
}

/** --dataset builtin:PRESET / --data FILE... from the flags; null when neither is given. */
export function dataSpecFromFlags(
  dataset: string | undefined,
  files: string[],
  dataSeed: number | undefined,
  seqLen?: number,
  hookName?: string,
): DataSpec | null {
  if (dataset && files.length) throw new UsageError('give either --dataset or --data, not both');
  if (dataset) {
    const m = /^builtin:(\w+)$/.exec(dataset);
    if (!m) throw new UsageError(`--dataset must look like builtin:PRESET (got '${dataset}')`);
    return { builtin: m[1], seed: dataSeed ?? BUILTIN_DATA_SEED };
  }
  if (files.length) return { files: files.map((f) => path.resolve(f)), seqLen, hookName };
  return null;
}

/** The data flags (--dataset, --data, --data-seed, --data-seq-len, --hook-name) as a spec; null when
 *  neither --dataset nor --data is given. */
export function dataSpecOf(a: ParsedArgs): DataSpec | null {
  return dataSpecFromFlags(
    flag(a, 'dataset'),
    flagList(a, 'data'),
    flagNumber(a, 'data-seed'),
    flagNumber(a, 'data-seq-len'),
    flag(a, 'hook-name'),
  );
}
