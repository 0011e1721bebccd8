// BatchTopK selection, the features (one invocation per entry (n, i)):
//   f_ni = pre_ni if row n is valid, pre_ni > 0 and (key > v*, or key = v* and (n, i) is at or before
//          the tie cut (BTK_CUT_ROW, BTK_CUT_COL) in flat order); else 0.  Nothing when BTK_EMPTY.
// Exactly min(k·N_valid, #positive) entries are kept. Struct Btk and state words: method_common.wgsl.
// CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Btk;                      // N, m
@group(0) @binding(1) var<storage, read> pre: array<f32>;       // [N, m]
@group(0) @binding(2) var<storage, read> valid: array<u32>;     // [N]
@group(0) @binding(3) var<storage, read> state: array<u32>;     // [8] select state
@group(0) @binding(4) var<storage, read_write> f: array<f32>;   // [N, m] features

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.N * p.m) {
    return;
  }
  let n = k / p.m;
  let i = k % p.m;
  let v = pre[k];
  var on = valid[n] != 0u && v > 0.0 && state[BTK_EMPTY] == 0u;
  if (on) {
    let key = btk_key(v);
    let vs = state[BTK_PREFIX];
    let cr = state[BTK_CUT_ROW];
    on = key > vs || (key == vs && (n < cr || (n == cr && i <= state[BTK_CUT_COL])));
  }
  f[k] = select(0.0, v, on);
}
