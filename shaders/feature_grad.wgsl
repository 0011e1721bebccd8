// ∂L/∂pre from ∂L/∂f (SPEC §5), one workgroup per row, in place over g_f:
//   ∂L/∂f = g_x̂·W_decᵀ (the NT GEMM, already in g) + (λ1/N)·sign(f) [ReLU only]
//           + (λ2·α/N)·(sign(D_n) − sign(D_next(n)))
//   g_pre = ∂L/∂f ⊙ (f active)
// D_n = f_n − f_prev(n). Pairs: row n has a predecessor when t > 0, start(n) is false and n−1 is a valid
// token. D_n counts when n is valid and (it has a predecessor, or seq_start_mode is 'zero', where
// f_prev = 0); D_next(n) counts when n+1 is in the same sequence, valid, and has n as predecessor.
// sign(0) = 0. α comes from state[2] (written by alpha.wgsl this step) and is a constant here.
// JumpReLU (Rajamanoharan et al. 2024, straight-through estimator with the rectangle kernel
// K(u) = 1[|u| < ½], bandwidth ε): ∂f/∂θ = −(θ/ε)·K((pre−θ)/ε) and ∂L0/∂θ = −(1/ε)·K((pre−θ)/ε); the
// per-element contribution to ∂L/∂log θ (chain rule θ = exp(log θ) multiplies by θ) overwrites `pre`,
// which is not needed after this pass; column.wgsl sums it over rows.
// Row statistics for the metrics: .1 sparsity term (|f|₁ for ReLU, L0 for JumpReLU, 0 for TopK),
// .2 Σ|D_n| over counted pairs, .3 active features. CPU twin: featureGradTwin.

@group(0) @binding(0) var<uniform> p: Params;                      // sizes, λ1, λ2, 1/N, ε, modes
@group(0) @binding(1) var<storage, read> f: array<f32>;            // [rows, m] features of the row block
@group(0) @binding(2) var<storage, read_write> g: array<f32>;      // [rows, m] in: g_x̂·W_decᵀ, out: g_pre
@group(0) @binding(3) var<storage, read_write> pre: array<f32>;    // [rows, m] in: pre; JumpReLU out: ∂L/∂log θ terms
@group(0) @binding(4) var<storage, read> log_threshold: array<f32>; // [m] JumpReLU log θ
@group(0) @binding(5) var<storage, read> rowflags: array<u32>;     // [N] bit 0 start, bit 1 valid
@group(0) @binding(6) var<storage, read> state: array<f32>;        // [2] α of this step
@group(0) @binding(7) var<storage, read_write> row_stats: array<f32>; // [N, 4]: writes .1 .2 .3
@group(0) @binding(8) var<uniform> blk: Block; // the row block this dispatch covers (f/g/pre hold only its rows)

/** Sparsity gradient and statistic (src/sae/architectures: `sparsity`): 0 none (TopK), 1 L1 (ReLU), 2 L0 (JumpReLU). */
override SPARSITY: u32 = 0u;
/** true: the architecture has a learned threshold log θ (JumpReLU): write its per-element terms into `pre`. */
override THRESHOLD: bool = false;

// Invocations per workgroup (one workgroup per row): 256 on real GPUs; the trainer picks 32 on
// SwiftShader, where every extra invocation costs a CPU lane at each barrier of the tree reduction.
override WG: u32 = 256u;

fn sgn(v: f32) -> f32 {
  return select(select(0.0, -1.0, v < 0.0), 1.0, v > 0.0);
}

fn is_valid(n: u32) -> bool {
  return (rowflags[n] & 2u) != 0u;
}

/** Row n has row n−1 of the same sequence as its predecessor. */
fn has_prev(n: u32) -> bool {
  return n % p.T != 0u && (rowflags[n] & 1u) == 0u && is_valid(n - 1u);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let nl = wid.x + wid.y * nwg.x; // row within the block
  if (nl >= blk.rows) {
    return;
  }
  // Blocks hold whole sequences, so a predecessor or successor of row n is always in the same block.
  let n = blk.row0 + nl; // batch row
  let m = p.m;
  let base = nl * m;
  let valid = is_valid(n);
  let prev = has_prev(n);
  let countD = valid && (prev || (p.flags & 2u) == 0u);
  let countNext = valid && (n + 1u) % p.T != 0u && n + 1u < p.N && is_valid(n + 1u) && has_prev(n + 1u);
  let alpha = state[2];
  let cTemp = p.lambda2 * alpha * p.inv_n;
  var acc = vec3<f32>(0.0);
  for (var i = li; i < m; i += WG) {
    let fi = f[base + i];
    var fp = 0.0;
    if (prev) {
      fp = f[base - m + i];
    }
    var dL = g[base + i];
    if (SPARSITY == 1u) {
      dL += p.lambda1 * p.inv_n * sgn(fi);
    }
    var dn = 0.0;
    if (countD) {
      dn = fi - fp;
      dL += cTemp * sgn(dn);
    }
    if (countNext) {
      dL -= cTemp * sgn(f[base + m + i] - fi);
    }
    let is_active = valid && fi > 0.0;
    g[base + i] = select(0.0, dL, is_active);
    if (THRESHOLD) {
      let theta = exp(log_threshold[i]);
      let eps = p.jr_bandwidth;
      let u = (pre[base + i] - theta) / eps;
      var contrib = 0.0;
      if (valid && abs(u) < 0.5) {
        // ∂f/∂θ through every term of ∂L/∂f, plus the L0 term's own (SPARSITY 2).
        let l0 = select(0.0, p.lambda1 * p.inv_n * (-1.0 / eps), SPARSITY == 2u);
        contrib = theta * (dL * (-theta / eps) + l0);
      }
      pre[base + i] = contrib;
    }
    var sparse = 0.0;
    if (SPARSITY == 1u) {
      sparse = abs(fi);
    } else if (SPARSITY == 2u && is_active) {
      sparse = 1.0;
    }
    acc += vec3<f32>(sparse, abs(dn), select(0.0, 1.0, is_active));
  }
  let total = tree_sum_vec3(li, acc); // shaders/lib_reduce.wgsl
  if (li == 0u) {
    row_stats[n * 4u + 1u] = total.x;
    row_stats[n * 4u + 2u] = total.y;
    row_stats[n * 4u + 3u] = total.z;
  }
}
