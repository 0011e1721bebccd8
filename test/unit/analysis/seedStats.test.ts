// Student t intervals over seeds against published quantiles and a hand-worked interval.
import { describe, expect, it } from 'vitest';
import { seedInterval, studentTCdf, studentTQuantile, welch } from '../../../src/analysis/seedStats';

describe('Student t', () => {
  it('quantiles match the tables (two-sided 95 %, 99 %)', () => {
    // t_{0.975, df}: 12.7062 (1), 4.3027 (2), 2.7764 (4), 2.2622 (9), 2.0423 (30); t_{0.995, 4} = 4.6041.
    const cases: [number, number, number][] = [
      [0.975, 1, 12.7062],
      [0.975, 2, 4.3027],
      [0.975, 4, 2.7764],
      [0.975, 9, 2.2622],
      [0.975, 30, 2.0423],
      [0.995, 4, 4.6041],
    ];
    for (const [p, df, q] of cases) expect(studentTQuantile(p, df)).toBeCloseTo(q, 3);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    // df = 1 is Cauchy: F(t) = 1/2 + atan(t)/π.
    expect(studentTCdf(2, 1)).toBeCloseTo(0.5 + Math.atan(2) / Math.PI, 10);
    expect(studentTQuantile(0.025, 3)).toBeCloseTo(-studentTQuantile(0.975, 3), 9);
  });

  it('an interval over three seeds, hand-worked', () => {
    // 1, 2, 3: mean 2, s = 1, half = t_{0.975,2}·1/√3 = 4.30265/1.73205 = 2.48414.
    const r = seedInterval([1, 2, 3]);
    expect(r.n).toBe(3);
    expect(r.mean).toBe(2);
    expect(r.sd).toBeCloseTo(1, 12);
    expect(r.half).toBeCloseTo(2.48414, 4);
    expect(r.lo).toBeCloseTo(2 - r.half, 12);
    expect(r.method).toBe('student-t');
    // One seed: no interval; NaN values are left out.
    expect(seedInterval([5]).half).toBeNaN();
    expect(seedInterval([1, NaN, 3]).n).toBe(2);
  });

  it('Welch: equal samples are within the noise, distant ones are not', () => {
    const same = welch([1, 2, 3], [1, 2, 3]);
    expect(same.diff).toBe(0);
    expect(same.p).toBeCloseTo(1, 9);
    const far = welch([10, 10.1, 9.9], [1, 1.1, 0.9]);
    expect(far.diff).toBeCloseTo(9, 12);
    expect(far.p).toBeLessThan(1e-4);
    expect(far.half).toBeLessThan(1);
  });
});
