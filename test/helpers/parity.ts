// Element-wise comparison in the style of llm.c's kernel tests: |gpu − cpu| ≤ atol + rtol·|cpu|,
// reporting the first mismatches with their index and both values.

export interface CloseReport {
  ok: boolean;
  mismatches: number;
  maxAbs: number;
  maxRel: number;
  message: string;
}

export function compareClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
  show = 5,
): CloseReport {
  if (actual.length !== expected.length) {
    return {
      ok: false,
      mismatches: Math.max(actual.length, expected.length),
      maxAbs: Infinity,
      maxRel: Infinity,
      message: `${name}: length ${actual.length} ≠ expected ${expected.length}`,
    };
  }
  let mismatches = 0;
  let maxAbs = 0;
  let maxRel = 0;
  const lines: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    const bad = !(diff <= atol + rtol * Math.abs(e)); // NaN counts as a mismatch
    if (Number.isFinite(diff)) {
      maxAbs = Math.max(maxAbs, diff);
      if (e !== 0) maxRel = Math.max(maxRel, diff / Math.abs(e));
    }
    if (bad) {
      mismatches++;
      if (lines.length < show) lines.push(`  [${i}] gpu=${a} cpu=${e} |diff|=${diff}`);
    }
  }
  const message =
    mismatches === 0
      ? `${name}: ${expected.length} values within atol=${atol} rtol=${rtol} (max |diff| ${maxAbs.toExponential(2)})`
      : `${name}: ${mismatches}/${expected.length} values outside atol=${atol} rtol=${rtol}\n${lines.join('\n')}`;
  return { ok: mismatches === 0, mismatches, maxAbs, maxRel, message };
}

/** Throws with the mismatch report; use inside vitest `it` blocks. */
export function expectClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
): CloseReport {
  const r = compareClose(name, actual, expected, atol, rtol);
  if (!r.ok) throw new Error(r.message);
  return r;
}
