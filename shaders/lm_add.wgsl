// Residual add, in place: x[i] ← x[i] + y[i] over [count] (x += attn_out, x += mlp_out; SPEC §9).
// CPU twin: addTwin in src/lm/twins/mlp.ts.

struct CountDims {
  count: u32, // elements ([N, d])
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> u: CountDims;              // size
@group(0) @binding(1) var<storage, read_write> x: array<f32>; // [count] residual stream, updated
@group(0) @binding(2) var<storage, read> y: array<f32>;       // [count] sub-block output

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.count) {
    return;
  }
  x[i] = x[i] + y[i];
}
