// Workgroup grids: WebGPU caps each grid dimension (usually 65535), so a long 1-D launch is folded into
// two dimensions. Kernels recover the flat index as wid.x + wid.y·num_workgroups.x and bounds-check it.

export function grid(workgroups: number, maxPerDim = 65535): [number, number] {
  const n = Math.max(1, Math.ceil(workgroups));
  if (n <= maxPerDim) return [n, 1];
  const y = Math.ceil(n / maxPerDim);
  return [Math.ceil(n / y), y];
}
