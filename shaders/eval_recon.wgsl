// Held-out evaluation, reconstruction side (SPEC §6): per row n the four sums over the d inputs that
// ReconAccumulator.add (src/analysis/reconstruction.ts) forms per token, so only [rows, 4] come back
// instead of x̂ [rows, d]:
//   .0 ‖x_n − x̂_n‖²   .1 ‖x_n‖²   .2 ‖x̂_n‖²   .3 x̂_n·x_n
// Every row is reduced (padding too); the host uses valid rows only. WG invocations per row, f32 sums of
// d terms. CPU twin: evalSumsFromChunk (src/analysis/evalPartials.ts).
@group(0) @binding(0) var<uniform> p: Params;                          // N rows, d
@group(0) @binding(1) var<storage, read> x: array<f32>;                // [N, d] input
@group(0) @binding(2) var<storage, read> xhat: array<f32>;             // [N, d] reconstruction
@group(0) @binding(3) var<storage, read_write> row_recon: array<vec4<f32>>; // [N] the four sums above

// Invocations per row (they reduce it together) and rows per workgroup: 256 × 1 on real GPUs; 1 × 64
// on SwiftShader, whose cost is per workgroup and per barrier (64 rows a workgroup, no cross-lane
// reduction; one workgroup per row made these passes ~5× slower there).
override WG: u32 = 256u;
override ROWS: u32 = 1u;
var<workgroup> red: array<vec4<f32>, WG * ROWS>;

@compute @workgroup_size(WG, ROWS)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  // li: this invocation's lane within its row; slot: its row's first cell of `red`. Rows past N do no
  // work but still reach every barrier (barriers need uniform control flow).
  let li = lid.x;
  let slot = lid.y * WG;
  let n = (wid.x + wid.y * nwg.x) * ROWS + lid.y;
  var s = vec4<f32>(0.0);
  if (n < p.N) {
    let base = n * p.d;
    for (var j = li; j < p.d; j += WG) {
      let xv = x[base + j];
      let hv = xhat[base + j];
      let e = xv - hv;
      s += vec4<f32>(e * e, xv * xv, hv * hv, hv * xv);
    }
  }
  red[slot + li] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red[slot + li] += red[slot + li + w];
    }
    workgroupBarrier();
  }
  if (li == 0u && n < p.N) {
    row_recon[n] = red[slot];
  }
}
