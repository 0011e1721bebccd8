// AuxK's share of ∂L/∂pre: g_pre_ni += (g_ê_n·W_dec_iᵀ) for the chosen dead features i ∈ A_n, i.e. where
// f_aux ≠ 0 (a chosen feature whose pre is exactly 0 is treated as not chosen — measure zero). The product
// g_ê·W_decᵀ was written by an NT GEMM into the pre buffer, free once TopK and AuxK have selected.
// Elementwise over N×m. CPU twin: referenceBackward (AuxK block) in src/sae/reference/backward.ts.

@group(0) @binding(0) var<uniform> p: Params;                  // sizes
@group(0) @binding(1) var<storage, read> f_aux: array<f32>;    // [rows, m] chosen dead pre, else 0
@group(0) @binding(2) var<storage, read> g_aux: array<f32>;    // [rows, m] g_ê·W_decᵀ
@group(0) @binding(3) var<storage, read_write> g: array<f32>;  // [rows, m] g_pre (updated)
@group(0) @binding(4) var<uniform> blk: Block; // the row block this dispatch covers

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= blk.rows * p.m) {
    return;
  }
  if (f_aux[i] != 0.0) {
    g[i] += g_aux[i];
  }
}
