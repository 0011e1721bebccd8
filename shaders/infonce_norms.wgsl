// T-SAE InfoNCE, step 1 of 5 (src/sae/reference/infonce.ts): the norms of the high-level codes.
// One invocation per k in [0, 2P): k < P the current token of pair k (row pairs[k]), else the previous
// token of pair k − P (row pairs[k]):   norms[k] = ‖f[pairs[k], 0:H]‖₂
// Struct Nce: shaders/method_common.wgsl. CPU twin: infoNceTwin (src/sae/twins/infonce.ts).
@group(0) @binding(0) var<uniform> p: Nce;                        // P, H, m
@group(0) @binding(1) var<storage, read> f: array<f32>;           // [N, m] feature activations
@group(0) @binding(2) var<storage, read> pairs: array<u32>;       // [2P] rows: current tokens, then previous
@group(0) @binding(3) var<storage, read_write> norms: array<f32>; // [2P]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= 2u * p.P) {
    return;
  }
  let o = pairs[k] * p.m;
  var s = 0.0;
  for (var h = 0u; h < p.H; h++) {
    let v = f[o + h];
    s += v * v;
  }
  norms[k] = sqrt(s);
}
