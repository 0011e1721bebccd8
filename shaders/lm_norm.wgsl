// The two row norms of SPEC §9 over x [N, d], one kernel with a mode flag:
//   LayerNorm (torch.nn.LayerNorm; GPT-2's ln_1, ln_2, ln_f):  y = (x − μ)/√(σ² + eps)·w + b,
//       μ = mean(x), σ² = mean((x − μ)²) (biased; two passes over the row for accuracy);
//   RMSNorm (LlamaRMSNorm, llama2.c rmsnorm):                    y = x/√(mean(x²) + eps)·w.
// Two entry points, the same maths: `main`, one workgroup of 64 per row (each invocation sums a strided
// slice, a tree reduction in workgroup memory combines them; for real GPUs), and `rows`, one invocation
// per row with no barriers (for SwiftShader, where a workgroup barrier costs more than the whole row:
// measured 350 ms vs ~10 ms for 1024 rows of 64). Rows fold over a 2-D grid (src/gpu/dispatch.ts).
// CPU twins: layerNormTwin and rmsNormTwin in src/lm/twins/norm.ts.

struct NormDims {
  N: u32,   // rows
  d: u32,   // row length (d_model)
  eps: f32, // added to σ² (LayerNorm) or mean(x²) (RMSNorm)
  rms: u32, // 1: RMSNorm (no centring, b unused); 0: LayerNorm
}

@group(0) @binding(0) var<uniform> u: NormDims;               // sizes, eps, mode
@group(0) @binding(1) var<storage, read> x: array<f32>;       // [N, d] input rows
@group(0) @binding(2) var<storage, read> w: array<f32>;       // [d] scale
@group(0) @binding(3) var<storage, read> b: array<f32>;       // [d] shift (LayerNorm only)
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // [N, d] normalized rows

const WG = 64u;
var<workgroup> red: array<f32, WG>;

/** Sum of every invocation's v, returned to all of them. */
fn workgroupSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= u.N) {
    return;
  }
  let o = row * u.d;
  let layer = u.rms == 0u;
  var mean = 0.0;
  if (layer) {
    var s = 0.0;
    for (var k = lid; k < u.d; k += WG) {
      s += x[o + k];
    }
    mean = workgroupSum(s, lid) / f32(u.d);
  }
  var q = 0.0;
  for (var k = lid; k < u.d; k += WG) {
    let c = x[o + k] - mean;
    q += c * c;
  }
  let inv = inverseSqrt(workgroupSum(q, lid) / f32(u.d) + u.eps);
  for (var k = lid; k < u.d; k += WG) {
    var v = (x[o + k] - mean) * inv * w[k];
    if (layer) {
      v += b[k];
    }
    y[o + k] = v;
  }
}

@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= u.N) {
    return;
  }
  let o = row * u.d;
  let layer = u.rms == 0u;
  var mean = 0.0;
  if (layer) {
    for (var k = 0u; k < u.d; k++) {
      mean += x[o + k];
    }
    mean /= f32(u.d);
  }
  var q = 0.0;
  for (var k = 0u; k < u.d; k++) {
    let c = x[o + k] - mean;
    q += c * c;
  }
  let inv = inverseSqrt(q / f32(u.d) + u.eps);
  for (var k = 0u; k < u.d; k++) {
    var v = (x[o + k] - mean) * inv * w[k];
    if (layer) {
      v += b[k];
    }
    y[o + k] = v;
  }
}
