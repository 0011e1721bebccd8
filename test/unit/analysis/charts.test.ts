import { describe, expect, it } from 'vitest';
import { dendrogramModel, normalizeRows } from '../../../src/ui/analysis/dendrogramModel';
import { toCsv, toJson } from '../../../src/ui/analysis/exportFiles';

describe('dendrogram geometry', () => {
  it('places leaves on rows in leaf order and merges at their heights', () => {
    // The textbook UPGMA example: merges (0,1)@17, (4,5)@22, (2,3)@28, (6,7)@33; order 4,0,1,2,3.
    const L = { a: [0, 4, 2, 6], b: [1, 5, 3, 7], dist: [17, 22, 28, 33] };
    const m = dendrogramModel(L, [4, 0, 1, 2, 3], 330, 10);
    expect(m.leafY).toEqual([15, 25, 35, 45, 5]);
    expect(m.maxDist).toBe(33);
    expect(m.x(33)).toBe(0);
    expect(m.x(0)).toBe(330);
    // Merge 0 joins leaves 0 (y 15) and 1 (y 25) at x = 330·(1 − 17/33) = 160.
    expect(m.paths[0]).toBe('M330.0,15.0H160.0V25.0H330.0');
    // The root joins node 6 (y = (5 + 20)/2) and node 7 (y 40) at x 0.
    expect(m.paths[3]).toBe('M110.0,12.5H0.0V40.0H50.0');
  });
  it('row normalization', () => {
    expect(normalizeRows([[0, 2, 4], [0, 0, 0], [NaN, 1, 0.5]])).toEqual([[0, 0.5, 1], [0, 0, 0], [0, 1, 0.5]]); // prettier-ignore
  });
});

describe('export formats', () => {
  it('CSV quotes what needs quoting and leaves NaN empty', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          [1, 'x,y'],
          [NaN, 'say "hi"'],
        ],
      ),
    ).toBe('a,b\n1,"x,y"\n,"say ""hi"""\n');
  });
  it('JSON writes NaN as null', () => {
    expect(JSON.parse(toJson({ v: [1, NaN, Infinity] }))).toEqual({ v: [1, null, null] });
  });
});
