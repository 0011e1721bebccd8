// Held-out evaluation, clustering traces (SPEC §6 temporal clustering): the activations of the K chosen
// features (the most variable ones, picked from a first pass of evaluation sums) for every row of the
// batch, feature-major, so K × rows values come back instead of f [rows, m]:
//   traces[k·rows + n] = f[n, ids[k]]
// One invocation per (feature, row of the block). CPU twin: gatherTwin (src/analysis/evalPartials.ts).
struct Gather {
  K: u32,    // chosen features
  rows: u32, // rows of the batch (S·T), the stride of `traces`
  _g0: u32,
  _g1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;                         // m
@group(0) @binding(1) var<uniform> g: Gather;                         // K, batch rows
@group(0) @binding(2) var<storage, read> ids: array<u32>;             // [K] chosen feature indices (< m)
@group(0) @binding(3) var<storage, read> f: array<f32>;               // [rows, m] features of the row block
@group(0) @binding(4) var<uniform> blk: Block;                        // the row block
@group(0) @binding(5) var<storage, read_write> traces: array<f32>;    // [K, batch rows]

// Invocations per workgroup.
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= g.K * blk.rows) {
    return;
  }
  let k = idx / blk.rows;
  let r = idx % blk.rows;
  let n = blk.row0 + r;
  if (n >= g.rows) {
    return;
  }
  traces[k * g.rows + n] = f[r * p.m + ids[k]];
}
