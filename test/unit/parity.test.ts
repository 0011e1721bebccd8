import { describe, expect, it } from 'vitest';
import { compareClose } from '../helpers/parity';

describe('compareClose', () => {
  it('accepts values inside atol + rtol·|expected| and rejects others, NaN included', () => {
    expect(compareClose('a', [1, 2.0001], [1, 2], 0, 1e-4).ok).toBe(true);
    const r = compareClose('b', [1, 2.01, NaN], [1, 2, 3], 1e-3, 1e-3);
    expect(r.ok).toBe(false);
    expect(r.mismatches).toBe(2);
    expect(r.message).toContain('[1]');
  });
  it('rejects length mismatch', () => {
    expect(compareClose('c', [1], [1, 2], 1, 1).ok).toBe(false);
  });
});
