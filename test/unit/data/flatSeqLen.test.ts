// The app cuts [N, d] arrays into sequences of its context size (flatSeqLen); [S, T, d] files keep their T.
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { openDataset } from '../../../src/data/dataset';
import { encodeNpy } from '../../../src/data/npyWrite';

const values = Float32Array.from({ length: 12 * 2 }, (_, i) => i);

describe('flatSeqLen', () => {
  it('cuts an [N, d] array into sequences of flatSeqLen, in order', async () => {
    const src = bytesByteSource(encodeNpy(values, [12, 2], '<f4'), 'flat.npy');
    const ds = await openDataset([src], { flatSeqLen: 4 });
    expect([ds.numSequences, ds.seqLen, ds.d]).toEqual([3, 4, 2]);
    const { x } = await ds.readSequences([1]);
    expect(Array.from(x)).toEqual(Array.from(values.subarray(8, 16)));
  });
  it('leaves an [S, T, d] array as it is', async () => {
    const src = bytesByteSource(encodeNpy(values, [2, 6, 2], '<f4'), 'seq.npy');
    const ds = await openDataset([src], { flatSeqLen: 4 });
    expect([ds.numSequences, ds.seqLen, ds.d]).toEqual([2, 6, 2]);
  });
  it('still names the problem when N is not a multiple of flatSeqLen', async () => {
    const src = bytesByteSource(encodeNpy(values, [12, 2], '<f4'), 'flat.npy');
    await expect(openDataset([src], { flatSeqLen: 5 })).rejects.toThrow(
      /flat\.npy.*12 rows are not a whole number of sequences of 5/,
    );
  });
});
