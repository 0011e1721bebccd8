// End of a training step: reduce the row statistics and gradient-norm partials into the step's metrics
// (SPEC §4), and latch the first non-finite value (loss term or parameter) with its step so the trainer
// can name it at the next readback. One workgroup. CPU twin: finalizeTwin.
//   L_sparse = (1/N) Σ_n row_stats.1,  L_temp = (1/N) Σ_n row_stats.2,  L0 = (1/N) Σ_n row_stats.3
//   loss = L_recon + λ1·L_sparse + λ2·α·L_temp (+ aux_k_coefficient·L_aux),  grad_norm = √(Σ partials)
// Matryoshka (MAT_G > 0 prefixes; src/sae/reference/matryoshka.ts): L_g = (1/N) Σ_n mat_rows[g, n] and
//   L_mat = Σ_g c_g·L_g (MAT_C0..7 = c_g) replaces L_recon in the loss (L_recon stays α's and is logged);
// T-SAE: + NCE_COEF·L_nce with L_nce = nce_loss[0] (infonce_lse.wgsl).
@group(0) @binding(0) var<uniform> p: Params;                        // 1/N, λ1, λ2, step
@group(0) @binding(1) var<storage, read> row_stats: array<f32>;      // [N, 4]
@group(0) @binding(2) var<storage, read> partials: array<f32>;       // [5·PARTS] Σ g² partials
@group(0) @binding(3) var<storage, read> state: array<f32>;          // [0] L_max [2] α [3] L_recon
@group(0) @binding(4) var<storage, read_write> counters: array<atomic<u32>>; // [0] dead [1] param bits [2] fault bits [3] fault step
@group(0) @binding(5) var<storage, read_write> metrics: array<f32>;  // [24] see METRIC in src/sae/gpu/layout.ts
@group(0) @binding(6) var<storage, read> aux_rows: array<f32>;       // [N] AuxK ‖r_n‖² (0 when off)
@group(0) @binding(7) var<storage, read> mat_rows: array<f32>;       // [G, N] Matryoshka row losses (MAT_G > 0)
@group(0) @binding(8) var<storage, read> nce_loss: array<f32>;       // [1] L_nce (NCE_COEF > 0)

// Matryoshka prefixes (0: none) and their weights c_g of L_mat = Σ_g c_g·L_g; the contrastive weight.
override MAT_G: u32 = 0u;
override MAT_C0: f32 = 0.0;
override MAT_C1: f32 = 0.0;
override MAT_C2: f32 = 0.0;
override MAT_C3: f32 = 0.0;
override MAT_C4: f32 = 0.0;
override MAT_C5: f32 = 0.0;
override MAT_C6: f32 = 0.0;
override MAT_C7: f32 = 0.0;
override NCE_COEF: f32 = 0.0;

const WG = 256u;
var<workgroup> red: array<vec4<f32>, 256>;
var<workgroup> red_aux: array<f32, 256>;
var<workgroup> red_mat: array<array<vec4<f32>, 2>, 256>; // per-prefix row-loss sums, prefixes 0–3 and 4–7

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = vec4<f32>(0.0);
  for (var n = li; n < p.N; n += WG) {
    s += vec4<f32>(row_stats[n * 4u + 1u], row_stats[n * 4u + 2u], row_stats[n * 4u + 3u], 0.0);
  }
  var sa = 0.0;
  for (var n = li; n < p.N; n += WG) {
    sa += aux_rows[n];
  }
  let np = arrayLength(&partials);
  for (var i = li; i < np; i += WG) {
    s.w += partials[i];
  }
  var sm = array<f32, 8>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  for (var g = 0u; g < MAT_G; g++) {
    for (var n = li; n < p.N; n += WG) {
      sm[g] += mat_rows[g * p.N + n];
    }
  }
  red[li] = s;
  red_aux[li] = sa;
  red_mat[li][0] = vec4<f32>(sm[0], sm[1], sm[2], sm[3]);
  red_mat[li][1] = vec4<f32>(sm[4], sm[5], sm[6], sm[7]);
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red[li] += red[li + w];
      red_aux[li] += red_aux[li + w];
      red_mat[li][0] += red_mat[li + w][0];
      red_mat[li][1] += red_mat[li + w][1];
    }
    workgroupBarrier();
  }
  if (li != 0u) {
    return;
  }
  let l_recon = state[3];
  let alpha = state[2];
  let l_sparse = red[0].x * p.inv_n;
  let l_temp = red[0].y * p.inv_n;
  let l0 = red[0].z * p.inv_n;
  let grad_norm = sqrt(red[0].w);
  // AuxK (TopK): L_aux = scale·(1/N)·Σ‖r_n‖², added with its coefficient only when some feature is dead.
  let l_aux = state[4] * red_aux[0] * p.inv_n;
  let aux_term = select(0.0, p.aux_k_coefficient * l_aux, state[5] > 0.0);
  // Matryoshka prefix losses L_g (metrics[16 + g]) and L_mat; T-SAE's L_nce.
  var cw = array<f32, 8>(MAT_C0, MAT_C1, MAT_C2, MAT_C3, MAT_C4, MAT_C5, MAT_C6, MAT_C7);
  var l_mat = 0.0;
  for (var g = 0u; g < MAT_G; g++) {
    let l_g = red_mat[0][g / 4u][g % 4u] * p.inv_n;
    metrics[16u + g] = l_g;
    l_mat += cw[g] * l_g;
  }
  var l_nce = 0.0;
  if (NCE_COEF > 0.0) {
    l_nce = nce_loss[0];
  }
  let l_fit = select(l_recon, l_mat, MAT_G > 0u);
  let loss = l_fit + p.lambda1 * l_sparse + p.lambda2 * alpha * l_temp + aux_term + NCE_COEF * l_nce;
  metrics[0] = l_recon;
  metrics[1] = l_sparse;
  metrics[2] = l_temp;
  metrics[3] = l_aux;
  metrics[4] = loss;
  metrics[5] = alpha;
  metrics[6] = state[0];
  metrics[7] = l0;
  metrics[8] = f32(atomicLoad(&counters[0]));
  metrics[9] = grad_norm;
  metrics[10] = l_mat;
  metrics[11] = l_nce;
  var bits = atomicLoad(&counters[1]) << 4u;
  bits |= select(1u, 0u, finite(l_recon) && finite(l_mat)); // Matryoshka's L_mat counts as L_recon
  bits |= select(2u, 0u, finite(l_sparse));
  bits |= select(4u, 0u, finite(l_temp));
  bits |= select(8u, 0u, finite(grad_norm));
  if (bits != 0u && atomicLoad(&counters[2]) == 0u) {
    atomicStore(&counters[2], bits);
    atomicStore(&counters[3], p.step);
  }
}
