// .npz = a zip of .npy members (np.savez / np.savez_compressed). The activations are the float member
// (preferring the names activations/acts/x); `token_ids` [S, T] (int32/int64), when present, gives
// token ids. Memory: stored members stream from the archive; a deflated member is inflated into
// memory up to `maxInflateBytes` (default 256 MB, the batcher's default cap), and a larger one into a
// scratch file when `scratch` is given (the app: OPFS; the CLI: the temp folder).
import type { ByteSource } from './byteSource';
import { DataFileError } from './errors';
import { openNpy, readNpyHeader, type NpyOptions } from './npy';
import type { ActivationSource } from './types';
import type { Scratch } from './scratch';
import { openZipMember, readZipDirectory } from './zip';

export interface NpzOptions extends NpyOptions {
  maxInflateBytes?: number;
  scratch?: Scratch | null;
}

const PREFERRED = ['activations', 'acts', 'x', 'arr_0'];

export async function openNpz(src: ByteSource, opts: NpzOptions = {}): Promise<ActivationSource> {
  const entries = (await readZipDirectory(src)).filter((e) => e.name.endsWith('.npy'));
  if (entries.length === 0) throw new DataFileError(src.name, 'the archive holds no .npy arrays');
  const maxInflateBytes = opts.maxInflateBytes ?? 256 * 2 ** 20;
  const memberOpts = { maxInflateBytes, scratch: opts.scratch };
  const base = (n: string) => n.replace(/\.npy$/, '');
  const tokenEntry = entries.find((e) => base(e.name) === 'token_ids');
  // Try the preferred names first: a deflated member has to be inflated before its header can be read.
  const candidates = entries.filter((e) => e !== tokenEntry);
  candidates.sort((a, b) => rank(base(a.name)) - rank(base(b.name)));
  for (const e of candidates) {
    const member = await openZipMember(src, e, memberOpts);
    const h = await readNpyHeader(member);
    if (h.dtype === 'float32' || h.dtype === 'float16') {
      let tokens;
      if (tokenEntry) {
        const tsrc = await openZipMember(src, tokenEntry, memberOpts);
        tokens = { src: tsrc, header: await readNpyHeader(tsrc) };
      }
      return openNpy(member, opts, tokens, src.name);
    }
  }
  throw new DataFileError(
    src.name,
    `no float32/float16 activation array among ${entries.map((e) => e.name).join(', ')}`,
  );
}

function rank(name: string): number {
  const i = PREFERRED.indexOf(name);
  return i < 0 ? PREFERRED.length : i;
}
