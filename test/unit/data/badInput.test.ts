// Every kind of bad input gets a DataFileError naming the file and the problem (issue 4).
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { openDataset } from '../../../src/data/dataset';
import { encodeNpy } from '../../../src/data/npyWrite';
import { DataFileError } from '../../../src/data/errors';
import { BAD_FIXTURES } from '../../fixtures/data/badFiles';

describe('bad input fixtures', () => {
  it.each(BAD_FIXTURES.map((f) => [f.what, f] as const))('%s', async (_, f) => {
    const err = await openDataset(f.files(), { ...f.opts, folderName: 'cache' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toMatch(f.message);
  });
});

describe('dropped folders', () => {
  it('ignores files that are not activations, and says so when nothing is left', async () => {
    const other = [
      bytesByteSource(new Uint8Array(3), 'cache_activations_runner_cfg.json'),
      bytesByteSource(new Uint8Array(1), '.DS_Store'),
    ];
    const npy = bytesByteSource(encodeNpy(new Float32Array(8), [2, 2, 2], '<f4'), 'a.npy');
    expect((await openDataset([...other, npy])).numSequences).toBe(2);
    await expect(openDataset(other)).rejects.toThrow(
      /^cache_activations_runner_cfg\.json, \.DS_Store: no activation files/,
    );
  });
});
