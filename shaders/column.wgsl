// Per-feature sums over the rows of the batch, one invocation per feature (SPEC §5 and dead tracking):
//   ∂L/∂b_enc_i = Σ_n g_pre[n, i]
//   ∂L/∂log θ_i = Σ_n (terms left in `theta_terms` by feature_grad.wgsl)        [JumpReLU]
//   tokens_since_fired_i ← 0 if feature i fired on a valid token of the batch, else += N_valid;
//   a feature is dead when tokens_since_fired ≥ dead_feature_window (counted into counters[0]).
// CPU twin: columnTwin.

@group(0) @binding(0) var<uniform> p: Params;                           // sizes, N_valid, dead window
@group(0) @binding(1) var<storage, read> f: array<f32>;                 // [rows, m] features of the row block (0 on padding)
@group(0) @binding(2) var<storage, read> g_pre: array<f32>;             // [rows, m] ∂L/∂pre
@group(0) @binding(3) var<storage, read> theta_terms: array<f32>;       // [rows, m] JumpReLU per-element ∂L/∂log θ
@group(0) @binding(4) var<storage, read_write> grad_b_enc: array<f32>;  // [m]
@group(0) @binding(5) var<storage, read_write> grad_log_threshold: array<f32>; // [m] (JumpReLU)
@group(0) @binding(6) var<storage, read_write> tokens_since_fired: array<f32>; // [m]
@group(0) @binding(7) var<storage, read_write> counters: array<atomic<u32>>; // [0] dead features
@group(0) @binding(8) var<uniform> blk: Block; // the row block; first/last drive the accumulation over blocks

/** true: also sum the JumpReLU threshold gradient. */
override JUMPRELU: bool = false;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.m) {
    return;
  }
  var gb = 0.0;
  var gt = 0.0;
  var fired = false;
  for (var n = 0u; n < blk.rows; n++) {
    let idx = n * p.m + i;
    gb += g_pre[idx];
    fired = fired || f[idx] > 0.0;
    if (JUMPRELU) {
      gt += theta_terms[idx];
    }
  }
  if (blk.first == 0u) {
    gb += grad_b_enc[i];
    gt += grad_log_threshold[i];
  }
  grad_b_enc[i] = gb;
  if (JUMPRELU) {
    grad_log_threshold[i] = gt;
  }
  // Between row blocks a feature that fired is marked by tokens_since_fired = −1 (real values are ≥ 0).
  let old = tokens_since_fired[i];
  if (old < 0.0) {
    fired = true;
  }
  if (blk.last == 0u) {
    if (fired) {
      tokens_since_fired[i] = -1.0;
    }
    return;
  }
  let since = select(old + p.n_valid, 0.0, fired);
  tokens_since_fired[i] = since;
  if (since >= p.dead_window) {
    atomicAdd(&counters[0], 1u);
  }
}
