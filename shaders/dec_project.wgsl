// Before the optimizer step, remove from each decoder row's gradient its component along the row
// (SPEC §3): g_i ← g_i − (g_i·w_i / w_i·w_i)·w_i, so a small step stays (to first order) on the unit
// sphere. One workgroup per row of W_dec. CPU twin: decProjectTwin.

@group(0) @binding(0) var<uniform> p: Params;                      // sizes
@group(0) @binding(1) var<storage, read> W_dec: array<f32>;        // [feats, d] rows of this feature block
@group(0) @binding(2) var<storage, read_write> grad_W_dec: array<f32>; // [feats, d]
@group(0) @binding(3) var<uniform> blk: Block; // the feature block: rows feat0.. of W_dec bound here

// Invocations per workgroup (one workgroup per row): 256 on real GPUs; the trainer picks 32 on
// SwiftShader, where every extra invocation costs a CPU lane at each barrier of the tree reduction.
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= blk.feats) {
    return;
  }
  let base = r * p.d;
  var s = vec2<f32>(0.0);
  for (var j = li; j < p.d; j += WG) {
    let w = W_dec[base + j];
    s += vec2<f32>(grad_W_dec[base + j] * w, w * w);
  }
  let total = tree_sum_vec2(li, s); // shaders/lib_reduce.wgsl
  let dot = total.x;
  let nn = total.y;
  let c = select(0.0, dot / nn, nn > 0.0);
  for (var j = li; j < p.d; j += WG) {
    grad_W_dec[base + j] -= c * W_dec[base + j];
  }
}
