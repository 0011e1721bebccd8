// After the optimizer step, rescale each decoder row to unit norm (SPEC §3). One workgroup per row.
// A row of norm 0 is left as it is. CPU twin: decRenormTwin.

@group(0) @binding(0) var<uniform> p: Params;                  // sizes
@group(0) @binding(1) var<storage, read_write> W_dec: array<f32>; // [feats, d] rows of this feature block
@group(0) @binding(2) var<uniform> blk: Block; // the feature block: rows feat0.. of W_dec bound here

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
  var s = 0.0;
  for (var j = li; j < p.d; j += WG) {
    let w = W_dec[base + j];
    s += w * w;
  }
  let total = tree_sum_f32(li, s); // shaders/lib_reduce.wgsl
  let nrm = sqrt(total);
  if (nrm > 0.0) {
    let inv = 1.0 / nrm;
    for (var j = li; j < p.d; j += WG) {
      W_dec[base + j] *= inv;
    }
  }
}
