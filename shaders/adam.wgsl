// One Adam step over one parameter buffer (SPEC §5; Kingma & Ba 2015, bias-corrected):
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  θ ← θ − lr·(m/bc1)/(√(v/bc2) + ε)
// with bc1 = 1 − β1^t, bc2 = 1 − β2^t and lr of this step passed in the uniform. Fused into the same pass:
// the partial sums of g² for the gradient norm (one per workgroup, summed by finalize.wgsl) and the
// detection of a non-finite parameter (bit BIT of counters[1]). Grid-stride over COUNT elements with at
// most GRAD_PARTS (src/sae/gpu/layout.ts) workgroups. CPU twin: adamTwin.
@group(0) @binding(0) var<uniform> p: Params;                      // lr, β1, β2, ε, bias corrections
@group(0) @binding(1) var<storage, read_write> param: array<f32>;  // [COUNT] the parameter
@group(0) @binding(2) var<storage, read> grad: array<f32>;         // [COUNT] its gradient
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;     // [COUNT] first moment
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;     // [COUNT] second moment
@group(0) @binding(5) var<storage, read_write> partials: array<f32>; // Σ g² per workgroup, all Adam dispatches
@group(0) @binding(6) var<storage, read_write> counters: array<atomic<u32>>; // [1] non-finite bits

/** Elements in this parameter buffer. */
override COUNT: u32 = 1u;
/** First partial-sum slot of this dispatch (dispatches own consecutive slices, one slot per workgroup). */
override BASE: u32 = 0u;
/** Which parameter this is, for the fault bits (W_enc 0, b_enc 1, W_dec 2, b_dec 3, log_threshold 4). */
override BIT: u32 = 0u;

const WG = 256u;

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let b1 = p.adam_beta1;
  let b2 = p.adam_beta2;
  var sq = 0.0;
  var bad = false;
  for (var i = wid.x * WG + li; i < COUNT; i += nwg.x * WG) {
    let gi = grad[i];
    sq += gi * gi;
    let mi = b1 * m1[i] + p.adam_one_minus_beta1 * gi;
    let vi = b2 * m2[i] + p.adam_one_minus_beta2 * gi * gi;
    m1[i] = mi;
    m2[i] = vi;
    let upd = p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.adam_eps);
    let np = param[i] - upd;
    param[i] = np;
    bad = bad || !finite(np);
  }
  if (bad) {
    atomicOr(&counters[1], 1u << BIT);
  }
  let total = tree_sum_f32(li, sq); // shaders/lib_reduce.wgsl
  if (li == 0u) {
    partials[BASE + wid.x] = total;
  }
}
