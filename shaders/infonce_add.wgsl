// T-SAE InfoNCE into the trainer's ∂L/∂f (src/sae/reference/methods.ts: ∂L/∂f += c_nce·∂L_nce/∂f).
// One invocation per (n, h) of the first H columns:
//   g[n, h] += coef · (g_code[0, n, h] + g_code[1, n, h])
// g_code's two sides (row n as the current token of a pair, and as the previous one) come from
// infonce_grad.wgsl; a row in no pair has zeros there. Runs after the Matryoshka ∂L/∂f
// (matryoshka_grad_f.wgsl) and before feature_grad.wgsl adds the temporal term and masks by the active
// set. Struct Nce: shaders/method_common.wgsl. CPU twin: infoNceAddTwin (src/sae/twins/infonce.ts).
@group(0) @binding(0) var<uniform> p: Nce;                       // N, H, m, coef
@group(0) @binding(1) var<storage, read> g_code: array<f32>;     // [2, N, H] from infonce_grad
@group(0) @binding(2) var<storage, read_write> g: array<f32>;    // [N, m] ∂L/∂f so far

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = n·H + h
  let NH = p.N * p.H;
  if (k >= NH) {
    return;
  }
  let n = k / p.H;
  let h = k % p.H;
  g[n * p.m + h] += p.coef * (g_code[k] + g_code[NH + k]);
}
