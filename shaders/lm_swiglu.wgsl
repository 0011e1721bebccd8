// SwiGLU's gate (Llama MLP, SPEC §9: down(silu(gate(h))·up(h))), in place into the up projection:
//   up[i] ← silu(gate[i])·up[i],   silu(g) = g·σ(g) = g/(1 + e^(−g)).
// σ is taken through e^(−|g|) so neither branch overflows. CPU twin: swigluTwin in src/lm/twins/mlp.ts.

struct CountDims {
  count: u32, // elements ([N, d_mlp])
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> u: CountDims;               // size
@group(0) @binding(1) var<storage, read> gate: array<f32>;     // [count] h·W_gate
@group(0) @binding(2) var<storage, read_write> up: array<f32>; // [count] h·W_in in, silu(gate)·up out

fn sigmoid(g: f32) -> f32 {
  let e = exp(-abs(g));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.count) {
    return;
  }
  let g = gate[i];
  up[i] = g * sigmoid(g) * up[i];
}
