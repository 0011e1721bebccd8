// Cross-run feature matching (SPEC §6): greedy one-to-one matching of decoder rows by cosine — repeatedly
// take the most similar pair (i in run A, j in run B) with both still free — and the mean matched cosine.
// Exact greedy without sorting all mA·mB pairs: each row keeps its top-L columns; a max-heap holds each
// row's best still-possible candidate; a row whose list runs out recomputes its list over the free columns.
// Because a row's list is sorted and only ever shrinks to free columns, the popped pair is always the
// global best free pair, as in the full sort. Ties break by lower i, then lower j.
import { cosRow, normalizeRows } from './cosine';

export interface FeatureMatching {
  /** [min(mA, mB)] matched pairs, in the order greedy took them (decreasing cosine). */
  a: Int32Array;
  b: Int32Array;
  cos: Float64Array;
  meanCos: number;
}

const LIST = 16;

export function greedyMatch(
  A: Float32Array,
  mA: number,
  B: Float32Array,
  mB: number,
  d: number,
): FeatureMatching {
  const UA = normalizeRows(A, mA, d);
  const UB = normalizeRows(B, mB, d);
  const K = Math.min(mA, mB);
  const takenB = new Uint8Array(mB);
  const row = new Float64Array(mB);
  const lists: { j: Int32Array; c: Float64Array; p: number }[] = new Array(mA);
  const buildList = (i: number) => {
    cosRow(UA, i, UB, mB, d, row);
    const idx: number[] = [];
    for (let j = 0; j < mB; j++) if (!takenB[j]) idx.push(j);
    idx.sort((x, y) => row[y] - row[x] || x - y);
    const n = Math.min(LIST, idx.length);
    const l = { j: new Int32Array(n), c: new Float64Array(n), p: 0 };
    for (let k = 0; k < n; k++) {
      l.j[k] = idx[k];
      l.c[k] = row[idx[k]];
    }
    lists[i] = l;
  };
  // Max-heap of rows keyed by (cos of current candidate desc, i asc, j asc).
  const heap: number[] = [];
  const key = (i: number) => lists[i].c[lists[i].p];
  const better = (x: number, y: number) => {
    const kx = key(x),
      ky = key(y);
    if (kx !== ky) return kx > ky;
    if (x !== y) return x < y;
    return false;
  };
  const push = (i: number) => {
    heap.push(i);
    let k = heap.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!better(heap[k], heap[p])) break;
      [heap[k], heap[p]] = [heap[p], heap[k]];
      k = p;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1,
          r = l + 1;
        let b = k;
        if (l < heap.length && better(heap[l], heap[b])) b = l;
        if (r < heap.length && better(heap[r], heap[b])) b = r;
        if (b === k) break;
        [heap[k], heap[b]] = [heap[b], heap[k]];
        k = b;
      }
    }
    return top;
  };
  for (let i = 0; i < mA; i++) {
    buildList(i);
    if (lists[i].j.length) push(i);
  }
  const a = new Int32Array(K),
    b = new Int32Array(K),
    cos = new Float64Array(K);
  let got = 0,
    sum = 0;
  while (got < K && heap.length) {
    const i = pop();
    const l = lists[i];
    const j = l.j[l.p];
    if (!takenB[j]) {
      takenB[j] = 1;
      a[got] = i;
      b[got] = j;
      cos[got] = l.c[l.p];
      sum += l.c[l.p];
      got++;
      continue;
    }
    l.p++;
    while (l.p < l.j.length && takenB[l.j[l.p]]) l.p++;
    if (l.p >= l.j.length) buildList(i);
    if (lists[i].j.length) push(i);
  }
  return { a, b, cos, meanCos: got ? sum / got : NaN };
}
