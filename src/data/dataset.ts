// Turning dropped files into one ActivationSource: pick the parser by extension, group a SAELens
// folder's files, and join several files of the same width into one dataset (SPEC §7). Nothing is
// kept from a failed open: callers only replace their dataset once this resolves.
import { openArrowCache } from './arrowCache';
import type { ByteSource } from './byteSource';
import { DataFileError } from './errors';
import { openNpy, readNpyHeader } from './npy';
import { openNpz } from './npz';
import { openSafetensors } from './safetensors';
import type { Scratch } from './scratch';
import type { ActivationSource } from './types';

export interface OpenOptions {
  /** Tokens per sequence for [N, d] arrays (an [S, T, d] file must then have T = seqLen). */
  seqLen?: number;
  /** Tokens per sequence for [N, d] arrays only; [S, T, d] files keep their own T (the app passes its context size). */
  flatSeqLen?: number;
  /** SAELens cache: the activation column. */
  hookName?: string;
  /** Largest deflated .npz member inflated into memory. */
  maxInflateBytes?: number;
  /** Where larger deflated .npz members are inflated to (streaming); without one they are refused. */
  scratch?: Scratch | null;
}

/** Files that are not activations (tokenizers, vocabularies) and are ignored here. */
export function isTokenizerFile(name: string): boolean {
  return /(^|\/)(tokenizer|vocab)[^/]*\.json$/i.test(name);
}

/** Opens one file (.npy, .npz, .safetensors). */
export async function openActivationFile(src: ByteSource, opts: OpenOptions = {}): Promise<ActivationSource> {
  const n = src.name.toLowerCase();
  if (n.endsWith('.npy')) return openNpy(src, opts);
  if (n.endsWith('.npz')) return openNpz(src, opts);
  if (n.endsWith('.safetensors')) return openSafetensors(src, opts);
  throw new DataFileError(
    src.name,
    'unknown file type (expected .npy, .npz, .safetensors or a SAELens cache folder)',
  );
}

/**
 * Opens everything dropped at once. `.arrow` files (with the folder's dataset_info.json/state.json)
 * form one SAELens cache per folder; other activation files are one source each; all of them are
 * joined into one dataset when they agree on width and sequence length.
 */
export async function openDataset(
  files: ByteSource[],
  opts: OpenOptions & { folderName?: string } = {},
): Promise<ActivationSource> {
  const arrowish = files.filter(
    (f) => /\.arrow$/i.test(f.name) || /^(dataset_info|state)\.json$/.test(baseName(f.name)),
  );
  // Anything else in a dropped folder (SAELens's cache_activations_runner_cfg.json, tokenizer files,
  // .DS_Store, READMEs) is not activations and is left alone.
  const rest = files.filter((f) => !arrowish.includes(f) && /\.(npy|npz|safetensors)$/i.test(f.name));
  const sources: ActivationSource[] = [];
  if (arrowish.some((f) => /\.arrow$/i.test(f.name))) {
    const byFolder = new Map<string, ByteSource[]>();
    for (const f of arrowish) {
      const dir = dirName(f.name);
      byFolder.set(dir, [
        ...(byFolder.get(dir) ?? []),
        { ...f, name: baseName(f.name), read: f.read.bind(f) },
      ]);
    }
    for (const [dir, fs] of byFolder) {
      sources.push(await openArrowCache(dir || opts.folderName || 'activation cache', fs, opts));
    }
  }
  // `X.token_ids.npy` (or `token_ids.npy` beside a single activation .npy) gives that file's token ids.
  const idFiles = rest.filter((f) => /token_ids\.npy$/i.test(f.name));
  const actFiles = rest.filter((f) => !idFiles.includes(f));
  const npys = actFiles.filter((f) => /\.npy$/i.test(f.name));
  const pairs = new Map<ByteSource, ByteSource>();
  for (const idf of idFiles) {
    const prefix = idf.name.replace(/[._-]?token_ids\.npy$/i, '');
    const match =
      npys.find((a) => a.name.replace(/\.npy$/i, '') === prefix) ?? (npys.length === 1 ? npys[0] : undefined);
    if (!match)
      throw new DataFileError(
        idf.name,
        'no activation .npy to pair these token ids with (name it X.npy beside X.token_ids.npy)',
      );
    pairs.set(match, idf);
  }
  for (const f of actFiles) {
    const idf = pairs.get(f);
    sources.push(
      idf
        ? await openNpy(f, opts, { src: idf, header: await readNpyHeader(idf) })
        : await openActivationFile(f, opts),
    );
  }
  if (sources.length === 0)
    throw new DataFileError(
      opts.folderName ?? files.map((f) => f.name).join(', '),
      'no activation files (.npy, .npz, .safetensors, or a folder of .arrow files)',
    );
  return sources.length === 1 ? sources[0] : concatSources(sources);
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** Several sources of the same width and sequence length as one dataset, in the given order. */
export function concatSources(sources: ActivationSource[]): ActivationSource {
  const first = sources[0];
  for (const s of sources.slice(1)) {
    if (s.d !== first.d) {
      throw new DataFileError(
        s.name,
        `width ${s.d} differs from ${first.name} (width ${first.d}); files of one dataset must agree`,
      );
    }
    if (s.seqLen !== first.seqLen) {
      throw new DataFileError(
        s.name,
        `sequence length ${s.seqLen} differs from ${first.name} (${first.seqLen})`,
      );
    }
  }
  const starts: number[] = [];
  let total = 0;
  for (const s of sources) {
    starts.push(total);
    total += s.numSequences;
  }
  const { seqLen: T, d } = first;
  const hasTokenIds = sources.every((s) => s.hasTokenIds);
  return {
    name: `${first.name} + ${sources.length - 1} more`,
    numSequences: total,
    seqLen: T,
    d,
    // The widest dtype decides what the UI reports; every source decodes to float32 anyway.
    dtype: sources.some((s) => s.dtype === 'float32') ? 'float32' : first.dtype,
    hasTokenIds,
    async readSequences(indices) {
      const x = new Float32Array(indices.length * T * d);
      const tokenIds = hasTokenIds ? new Int32Array(indices.length * T) : undefined;
      // Group by source so each source sees one request.
      const groups = new Map<number, number[]>();
      indices.forEach((g, pos) => {
        if (!Number.isInteger(g) || g < 0 || g >= total)
          throw new RangeError(`sequence ${g} out of 0..${total - 1}`);
        let k = starts.length - 1;
        while (starts[k] > g) k--;
        groups.set(k, [...(groups.get(k) ?? []), pos]);
      });
      for (const [k, positions] of groups) {
        const r = await sources[k].readSequences(positions.map((p) => indices[p] - starts[k]));
        positions.forEach((p, j) => {
          x.set(r.x.subarray(j * T * d, (j + 1) * T * d), p * T * d);
          if (tokenIds && r.tokenIds) tokenIds.set(r.tokenIds.subarray(j * T, (j + 1) * T), p * T);
        });
      }
      return tokenIds ? { x, tokenIds } : { x };
    },
  };
}

/** The run's width must match the data's (SPEC §7: a clear message, nothing changed). */
export function checkWidth(source: ActivationSource, d_in: number): void {
  if (source.d !== d_in) {
    throw new DataFileError(
      source.name,
      `activation width ${source.d} does not match the run's d_in = ${d_in}`,
    );
  }
}
