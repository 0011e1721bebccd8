// GPT-2's gelu_new, in place over [count] (the MLP hidden layer after c_fc and its bias), SPEC §9:
//   x ← 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// tanh is written through exp of a non-positive argument (|x| large never overflows, and WGSL's tanh
// has no precision guarantee on every backend). CPU twin: geluNewTwin in src/lm/twins/mlp.ts.

struct CountDims {
  count: u32, // elements
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> u: CountDims;              // size
@group(0) @binding(1) var<storage, read_write> x: array<f32>; // [count] in place

/** tanh(z) = sign(z)·(1 − e^(−2|z|))/(1 + e^(−2|z|)). */
fn stableTanh(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.count) {
    return;
  }
  let v = x[i];
  x[i] = 0.5 * v * (1.0 + stableTanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
}
