// xc = x − b_dec (SPEC §3: the encoder sees the input minus the decoder bias). Elementwise over N×d; the
// centred input is kept because the TN GEMM ∂L/∂W_enc = xcᵀ·g_pre needs it again. CPU twin: centerTwin.
@group(0) @binding(0) var<uniform> p: Params;                 // sizes
@group(0) @binding(1) var<storage, read> x: array<f32>;       // [N, d] batch activations
@group(0) @binding(2) var<storage, read> b_dec: array<f32>;   // [d] decoder bias
@group(0) @binding(3) var<storage, read_write> xc: array<f32>; // [N, d] centred input

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.N * p.d) {
    return;
  }
  xc[i] = x[i] - b_dec[i % p.d];
}
