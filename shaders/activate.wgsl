// Elementwise activation after the encoder GEMM (SPEC §3): ReLU f = max(pre, 0), or JumpReLU
// f = pre·H(pre − θ) with θ = exp(log_threshold) (Rajamanoharan et al. 2024). Padding rows get f = 0 so
// no later pass (losses, firing counts, the inspector) can see them. TopK lives in topk.wgsl.
// CPU twin: activateTwin.

@group(0) @binding(0) var<uniform> p: Params;                     // sizes
@group(0) @binding(1) var<storage, read> pre: array<f32>;         // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> log_threshold: array<f32>; // [m] JumpReLU log θ (unused for ReLU)
@group(0) @binding(3) var<storage, read> rowflags: array<u32>;    // [N] bit 0 start, bit 1 valid
@group(0) @binding(4) var<storage, read_write> f: array<f32>;     // [rows, m] features of the block
@group(0) @binding(5) var<uniform> blk: Block; // the row block this dispatch covers (pre/f hold only its rows)

/** true: JumpReLU; false: ReLU. */
override JUMPRELU: bool = false;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= blk.rows * p.m) {
    return;
  }
  let n = blk.row0 + i / p.m; // batch row
  let v = pre[i];
  var out = 0.0;
  if ((rowflags[n] & 2u) != 0u) {
    if (JUMPRELU) {
      out = select(0.0, v, v > exp(log_threshold[i % p.m]));
    } else {
      out = max(v, 0.0);
    }
  }
  f[i] = out;
}
