// Startup self-test: C[M×N] = A[M×K] · B[K×N], one invocation per output, row-major f32.
// Deliberately naive: it proves that the adapter compiles and runs WGSL and returns correct numbers
// before the user trusts it with training. The CPU twin is `matmulCpu` in src/gpu/selftest.ts.

struct Dims {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;            // matrix sizes
@group(0) @binding(1) var<storage, read> A: array<f32>;   // M×K
@group(0) @binding(2) var<storage, read> B: array<f32>;   // K×N
@group(0) @binding(3) var<storage, read_write> C: array<f32>; // M×N

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col = gid.x;
  if (row >= dims.M || col >= dims.N) {
    return;
  }
  var acc = 0.0;
  for (var k = 0u; k < dims.K; k++) {
    acc += A[row * dims.K + k] * B[k * dims.N + col];
  }
  C[row * dims.N + col] = acc;
}
