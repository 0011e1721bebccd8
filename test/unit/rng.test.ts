import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';

describe('Rng (xoshiro128**)', () => {
  it('is deterministic per seed and stream, and different across them', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Rng(42)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Rng(42)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Rng(43)),
    );
    const d = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextU32()
      )(new Rng(42, 1)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(d);
  });
  it('restores from a saved state mid-stream', () => {
    const r = new Rng(7);
    for (let i = 0; i < 10; i++) r.normal();
    r.normal(); // leaves a spare deviate cached
    const saved = r.getState();
    const expected = [r.normal(), r.next(), r.int(100)];
    const r2 = Rng.fromState(saved);
    expect([r2.normal(), r2.next(), r2.int(100)]).toEqual(expected);
  });
  it('has uniform mean ≈ 0.5 and normal mean ≈ 0, variance ≈ 1 over 100k draws', () => {
    const r = new Rng(1);
    let su = 0,
      sn = 0,
      sn2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      su += r.next();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(Math.abs(su / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sn / n)).toBeLessThan(0.01);
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(0.02);
  });
});
