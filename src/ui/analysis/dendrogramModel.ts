// Data in → SVG geometry out for the dendrogram beside the clustering heatmap (pure, tested without a
// DOM). The root is on the left, leaves on the right edge, one per heatmap row in leaf order; a
// node's x is its merge height 1 − corr (0 at the right edge, the largest height at the left).

export interface LinkageData {
  a: number[];
  b: number[];
  dist: number[];
}

export interface DendrogramModel {
  /** One elbow path per merge. */
  paths: string[];
  /** y of each leaf's row centre, indexed by leaf (not by row). */
  leafY: number[];
  maxDist: number;
  /** x of a merge height, for the axis. */
  x: (dist: number) => number;
}

export function dendrogramModel(
  L: LinkageData,
  order: number[],
  width: number,
  rowH: number,
): DendrogramModel {
  const n = order.length;
  const maxDist = Math.max(1e-9, ...L.dist);
  const x = (d: number) => width * (1 - d / maxDist);
  const leafY = new Array<number>(n).fill(0);
  order.forEach((leaf, row) => (leafY[leaf] = (row + 0.5) * rowH));
  // Node ids as in scipy: leaves 0..n−1, merge r is node n + r.
  const nodeX = new Array<number>(2 * n - 1).fill(width);
  const nodeY = [...leafY, ...new Array<number>(Math.max(0, n - 1)).fill(0)];
  const paths: string[] = [];
  for (let r = 0; r < n - 1; r++) {
    const a = L.a[r],
      b = L.b[r];
    const xn = x(L.dist[r]);
    nodeX[n + r] = xn;
    nodeY[n + r] = (nodeY[a] + nodeY[b]) / 2;
    const f = (v: number) => v.toFixed(1);
    paths.push(`M${f(nodeX[a])},${f(nodeY[a])}H${f(xn)}V${f(nodeY[b])}H${f(nodeX[b])}`);
  }
  return { paths, leafY, maxDist, x };
}

/** Each row scaled to [0, 1] by its own maximum (traces of features with very different scales stay readable). */
export function normalizeRows(rows: number[][]): number[][] {
  return rows.map((r) => {
    const m = Math.max(0, ...r.filter(Number.isFinite));
    return r.map((v) => (m > 0 && Number.isFinite(v) ? v / m : 0));
  });
}
