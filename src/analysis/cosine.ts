// Row-wise cosine helpers for dictionaries stored row-major ([rows, d] float32).

/** A copy of the rows scaled to unit L2 norm (zero rows stay zero). */
export function normalizeRows(a: Float32Array, rows: number, d: number): Float32Array {
  if (a.length !== rows * d) throw new Error(`matrix has ${a.length} values, expected ${rows}×${d}`);
  const r = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += a[o + j] * a[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) r[o + j] = a[o + j] * inv;
  }
  return r;
}

/** [colsB] cosines of row i of unit-row matrix A with every row of unit-row matrix B. */
export function cosRow(
  A: Float32Array,
  i: number,
  B: Float32Array,
  rowsB: number,
  d: number,
  out: Float64Array,
): void {
  const o = i * d;
  for (let k = 0; k < rowsB; k++) {
    const ob = k * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += A[o + j] * B[ob + j];
    out[k] = s;
  }
}
