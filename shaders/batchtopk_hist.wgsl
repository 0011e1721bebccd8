// BatchTopK selection over the whole batch (src/sae/reference/batchTopk.ts batchTopkActive), radix pass:
// one invocation per entry (n, i) of pre; for a valid row's positive entry whose key matches the
// decided prefix, count its next 8 key bits:   hist[(key >> (24 − 8·round)) & 255] += 1
// Run four times, each followed by batchtopk_decide. Struct Btk and the state words: method_common.wgsl.
// CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Btk;                         // N, m
@group(0) @binding(1) var<storage, read> pre: array<f32>;          // [N, m] pre-activations
@group(0) @binding(2) var<storage, read> valid: array<u32>;        // [N] 1 for a real token
@group(0) @binding(3) var<storage, read> state: array<u32>;        // [8] select state
@group(0) @binding(4) var<storage, read_write> hist: array<atomic<u32>, 256>; // this round's counts

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let round = state[BTK_ROUND];
  if (k >= p.N * p.m || round >= 4u) {
    return;
  }
  let v = pre[k];
  if (valid[k / p.m] == 0u || !(v > 0.0)) {
    return;
  }
  let key = btk_key(v);
  if ((key & state[BTK_MASK]) != state[BTK_PREFIX]) {
    return;
  }
  atomicAdd(&hist[(key >> (24u - 8u * round)) & 255u], 1u);
}
