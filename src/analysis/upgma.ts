// Average-linkage (UPGMA) hierarchical clustering on a full symmetric distance matrix, with the
// nearest-neighbour-chain algorithm (Murtagh 1983; Müllner 2011, "Modern hierarchical, agglomerative
// clustering algorithms"): O(n²) time and memory instead of the naive O(n³). Average linkage is
// reducible, so NN-chain finds the same merges as the naive algorithm, only in another order; sorting
// them by height and relabelling with a union-find gives the same output as scipy's `linkage`:
// n − 1 rows (a, b, dist, size), original points 0..n−1, the cluster made by row k labelled n + k, a < b.

export interface Linkage {
  n: number;
  a: Int32Array;
  b: Int32Array;
  dist: Float64Array;
  size: Int32Array;
}

export function upgma(D: Float64Array, n: number): Linkage {
  if (D.length !== n * n) throw new Error(`distance matrix has ${D.length} values, expected ${n}×${n}`);
  const d = Float64Array.from(D);
  const size = new Int32Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  const mx: number[] = [],
    my: number[] = [],
    md: number[] = [];
  const chain: number[] = [];
  let remaining = n;
  while (remaining > 1) {
    if (chain.length === 0) {
      let s = 0;
      while (!active[s]) s++;
      chain.push(s);
    }
    let x: number, y: number;
    for (;;) {
      x = chain[chain.length - 1];
      const prev = chain.length > 1 ? chain[chain.length - 2] : -1;
      // Nearest active neighbour of x; the previous chain element wins ties so the chain terminates.
      let best = prev >= 0 ? d[x * n + prev] : Infinity;
      y = prev;
      for (let z = 0; z < n; z++) {
        if (z === x || !active[z]) continue;
        const v = d[x * n + z];
        if (v < best) {
          best = v;
          y = z;
        }
      }
      if (y === prev) break;
      chain.push(y);
    }
    chain.pop();
    chain.pop();
    const h = d[x * n + y];
    mx.push(x);
    my.push(y);
    md.push(h);
    // The merged cluster lives in slot y; Lance–Williams update for average linkage.
    const sx = size[x],
      sy = size[y];
    for (let z = 0; z < n; z++) {
      if (!active[z] || z === x || z === y) continue;
      const v = (sx * d[x * n + z] + sy * d[y * n + z]) / (sx + sy);
      d[y * n + z] = v;
      d[z * n + y] = v;
    }
    active[x] = 0;
    size[y] = sx + sy;
    remaining--;
  }
  // Sort by height (stable), then relabel like scipy's LinkageUnionFind.
  const order = md.map((_, k) => k).sort((p, q) => md[p] - md[q] || p - q);
  const parent = new Int32Array(2 * n - 1).map((_, i) => i);
  const csize = new Int32Array(2 * n - 1).fill(1);
  const find = (v: number) => {
    let r = v;
    while (parent[r] !== r) r = parent[r];
    while (parent[v] !== r) {
      const nx = parent[v];
      parent[v] = r;
      v = nx;
    }
    return r;
  };
  const L: Linkage = {
    n,
    a: new Int32Array(n - 1),
    b: new Int32Array(n - 1),
    dist: new Float64Array(n - 1),
    size: new Int32Array(n - 1),
  };
  order.forEach((k, row) => {
    const rx = find(mx[k]),
      ry = find(my[k]);
    const label = n + row;
    parent[rx] = label;
    parent[ry] = label;
    csize[label] = csize[rx] + csize[ry];
    L.a[row] = Math.min(rx, ry);
    L.b[row] = Math.max(rx, ry);
    L.dist[row] = md[k];
    L.size[row] = csize[label];
  });
  return L;
}

/** Leaves left to right (a before b at every node): the row order of the heatmap beside the dendrogram. */
export function leafOrder(L: Linkage): Int32Array {
  const n = L.n;
  const out = new Int32Array(n);
  if (n === 1) return out;
  let k = 0;
  const stack = [2 * n - 2];
  while (stack.length) {
    const v = stack.pop()!;
    if (v < n) out[k++] = v;
    else {
      const r = v - n;
      stack.push(L.b[r], L.a[r]);
    }
  }
  return out;
}
