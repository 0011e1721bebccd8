// Folders as .zip files (fflate). Exports are stored uncompressed: float32 weights barely compress and
// a stored zip is written in one pass. Reading checks the declared sizes before inflating anything.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { SaeFileError } from './errors';

/** Refuse archives that would inflate past this (an SAE with d = 4096, d_sae = 131072 in F32 is ~4.3 GB). */
export const MAX_UNZIPPED_BYTES = 6 * 1024 ** 3;

/** Zip a folder (file name → bytes) under `root/`. */
export function zipFolder(files: Map<string, Uint8Array>, root: string): Uint8Array {
  const z: Zippable = {};
  for (const [name, bytes] of files) z[`${root}/${name}`] = [bytes, { level: 0 }];
  return zipSync(z);
}

/** Unzip into file name → bytes; directories are skipped. Throws SaeFileError naming the archive. */
export function unzipFolder(zip: Uint8Array, fileName: string): Map<string, Uint8Array> {
  let total = 0;
  let out: Record<string, Uint8Array>;
  try {
    out = unzipSync(zip, {
      filter: (f) => {
        if (f.name.includes('..')) throw new SaeFileError(fileName, `entry '${f.name}' has '..' in its path`);
        total += f.originalSize;
        if (total > MAX_UNZIPPED_BYTES)
          throw new SaeFileError(
            fileName,
            `unzips to more than ${MAX_UNZIPPED_BYTES} bytes; unzip it yourself and load the folder`,
          );
        return !f.name.endsWith('/');
      },
    });
  } catch (e) {
    if (e instanceof SaeFileError) throw e;
    throw new SaeFileError(fileName, `not a readable zip archive (${(e as Error).message})`);
  }
  return new Map(Object.entries(out));
}
