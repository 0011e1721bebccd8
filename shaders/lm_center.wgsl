// TransformerLens's center_writing_weights seen from the hooks (SPEC §9), in place on a captured hook
// [N, d]: every row minus its mean over d_model, x[n, j] ← x[n, j] − mean_k x[n, k]. With W_E, W_pos,
// W_O, b_O, W_out, b_out centred, every write into the residual stream is mean-zero, so each of the five
// hooks equals its raw value minus its row mean (LayerNorm ignores the constant: logits do not change).
// One invocation per row, no barriers (a capture is [S·T, d]; the row walk is cheap next to the forward).
// CPU twin: centerResidual in src/lm/reference/forward.ts.

struct CenterDims {
  N: u32, // rows
  d: u32, // row length (d_model)
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> u: CenterDims;             // sizes
@group(0) @binding(1) var<storage, read_write> x: array<f32>; // [N, d] centred in place

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= u.N) {
    return;
  }
  let o = row * u.d;
  var s = 0.0;
  for (var k = 0u; k < u.d; k++) {
    s += x[o + k];
  }
  let mean = s / f32(u.d);
  for (var k = 0u; k < u.d; k++) {
    x[o + k] -= mean;
  }
}
