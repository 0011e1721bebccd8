// BatchTopK selection, ties per row (one invocation per row n): how many of the row's entries are
// positive, valid and have exactly the key v* of the take-th largest (state BTK_PREFIX after four
// rounds):   row_ties[n] = #{i : key(pre_ni) = v*}   (0 when nothing is selected)
// Struct Btk and state words: method_common.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Btk;                          // N, m
@group(0) @binding(1) var<storage, read> pre: array<f32>;           // [N, m]
@group(0) @binding(2) var<storage, read> valid: array<u32>;         // [N]
@group(0) @binding(3) var<storage, read> state: array<u32>;         // [8] select state
@group(0) @binding(4) var<storage, read_write> row_ties: array<u32>; // [N]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * WG;
  if (n >= p.N) {
    return;
  }
  var c = 0u;
  if (valid[n] != 0u && state[BTK_EMPTY] == 0u) {
    let vs = state[BTK_PREFIX];
    for (var i = 0u; i < p.m; i++) {
      let v = pre[n * p.m + i];
      if (v > 0.0 && btk_key(v) == vs) {
        c++;
      }
    }
  }
  row_ties[n] = c;
}
