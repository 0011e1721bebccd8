// L_recon of the step, then the L_max update and α (SPEC §4), all on the GPU so no readback sits in the
// step. One workgroup. α is written to `state` and read as a constant by the backward pass — it is a
// coefficient, not a path for gradients. CPU twin: updateAlpha in src/sae/alpha.ts.
//   first step: L_max = L_recon; 'max': max(L_recon, μ·L_max + (1−μ)·L_recon); 'ema': μ·L_max + (1−μ)·L_recon
//   'absolute': α = σ(β(L_max − L_recon)); 'relative': σ(β(L_max − L_recon)/L_max) (gap 0 when L_max ≤ 0)
@group(0) @binding(0) var<uniform> p: Params;                     // 1/N, β, μ, modes
@group(0) @binding(1) var<storage, read> row_stats: array<f32>;   // [N, 4]: .0 loss_n
@group(0) @binding(2) var<storage, read_write> state: array<f32>; // [0] L_max [1] has L_max [2] α [3] L_recon

const WG = 256u;

fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var n = li; n < p.N; n += WG) {
    s += row_stats[n * 4u];
  }
  let total = tree_sum_f32(li, s); // shaders/lib_reduce.wgsl
  if (li != 0u) {
    return;
  }
  let l_recon = total * p.inv_n;
  var l_max = l_recon;
  if (state[1] != 0.0) {
    let mu = p.lmax_momentum;
    let decayed = mu * state[0] + (1.0 - mu) * l_recon;
    l_max = select(max(l_recon, decayed), decayed, (p.flags & 4u) != 0u);
  }
  var gap = l_max - l_recon;
  if ((p.flags & 8u) != 0u) {
    gap = select(0.0, gap / l_max, l_max > 0.0);
  }
  state[0] = l_max;
  state[1] = 1.0;
  state[2] = sigmoid(p.alpha_beta * gap);
  state[3] = l_recon;
}
