// BatchTopK at inference (evaluation, forward): a JumpReLU with one threshold for every feature, as
// SAELens saves a BatchTopK SAE (architecture 'jumprelu', threshold = θ·1):
//   f_ni = pre_ni if row n is valid and pre_ni > max(θ, 0), else 0     (θ = state[6], see batchtopk_cut)
// One invocation per entry of the row block. CPU twin: thresholdActive (src/sae/reference/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                   // m
@group(0) @binding(1) var<storage, read> pre: array<f32>;       // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;  // [N] bit 1 valid
@group(0) @binding(3) var<storage, read> state: array<f32>;     // trainer state: [6] θ
@group(0) @binding(4) var<storage, read_write> f: array<f32>;   // [rows, m] features of the block
@group(0) @binding(5) var<uniform> blk: Block;                  // the row block this dispatch covers

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * 256u;
  if (k >= blk.rows * p.m) {
    return;
  }
  let v = pre[k];
  let theta = max(state[STATE_TOPK_THRESHOLD], 0.0);
  let on = (rowflags[blk.row0 + k / p.m] & 2u) != 0u && v > theta;
  f[k] = select(0.0, v, on);
}
