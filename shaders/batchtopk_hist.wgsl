// BatchTopK selection over the whole batch (Bussmann et al. 2024; SAELens BatchTopK; float64 reference
// batchTopkActive in src/sae/reference/batchTopk.ts), radix pass: one invocation per entry (n, i) of this
// row block's pre; for a valid row's positive entry whose key matches the decided prefix, count its next
// 8 key bits:   hist[(key >> (24 − 8·round)) & 255] += 1
// Dispatched for every row block into the one histogram, then batchtopk_decide; four rounds. Select-state
// words (BTK_*): shaders/lib_batchtopk.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                      // m
@group(0) @binding(1) var<storage, read> pre: array<f32>;          // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;     // [N] bit 0 start, bit 1 valid
@group(0) @binding(3) var<storage, read> sel: array<u32>;          // [8] select state
@group(0) @binding(4) var<storage, read_write> hist: array<atomic<u32>, 256>; // this round's counts
@group(0) @binding(5) var<uniform> blk: Block;                     // the row block this dispatch covers

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let round = sel[BTK_ROUND];
  if (k >= blk.rows * p.m || round >= 4u) {
    return;
  }
  let v = pre[k];
  if ((rowflags[blk.row0 + k / p.m] & 2u) == 0u || !(v > 0.0)) {
    return;
  }
  let key = btk_key(v);
  if ((key & sel[BTK_MASK]) != sel[BTK_PREFIX]) {
    return;
  }
  atomicAdd(&hist[(key >> (24u - 8u * round)) & 255u], 1u);
}
