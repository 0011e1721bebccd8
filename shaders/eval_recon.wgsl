// Held-out evaluation, reconstruction side (SPEC §6): per row n the four sums over the d inputs that
// ReconAccumulator.add (src/analysis/reconstruction.ts) forms per token, so only [rows, 4] come back
// instead of x̂ [rows, d]:
//   .0 ‖x_n − x̂_n‖²   .1 ‖x_n‖²   .2 ‖x̂_n‖²   .3 x̂_n·x_n
// Every row is reduced (padding too); the host uses valid rows only. One workgroup per row, f32 sums of
// d terms. CPU twin: evalSumsFromChunk (src/analysis/evalPartials.ts).
@group(0) @binding(0) var<uniform> p: Params;                          // N rows, d
@group(0) @binding(1) var<storage, read> x: array<f32>;                // [N, d] input
@group(0) @binding(2) var<storage, read> xhat: array<f32>;             // [N, d] reconstruction
@group(0) @binding(3) var<storage, read_write> row_recon: array<vec4<f32>>; // [N] the four sums above

// Invocations per workgroup (one workgroup per row): 256 on real GPUs, 32 on SwiftShader (see recon.wgsl).
override WG: u32 = 256u;
var<workgroup> red: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.N) {
    return;
  }
  let base = n * p.d;
  var s = vec4<f32>(0.0);
  for (var j = li; j < p.d; j += WG) {
    let xv = x[base + j];
    let hv = xhat[base + j];
    let e = xv - hv;
    s += vec4<f32>(e * e, xv * xv, hv * hv, hv * xv);
  }
  red[li] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red[li] += red[li + w];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    row_recon[n] = red[0];
  }
}
