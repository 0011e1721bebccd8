// Every kind of bad input gets a DataFileError naming the file and the problem (issue 4).
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../src/data/dataset';
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
