// C = A·B (+ C) (+ bias per column): the SwiftShader design of gemm_blocked.wgsl (barrier-free, 4×8
// register block per invocation, workgroup 8×4) with B read as two vec4 along n per k: 4 scalar loads of
// A and 2 vector loads of B per k instead of 12 scalar loads. It serves the TN products of the backward
// pass (∂W_enc = xᵀ·g_pre, ∂W_dec = fᵀ·g), whose A is strided along k, and any product with B
// contiguous along n. Preconditions, checked on the host (src/gpu/gemm.ts, bVec4Eligible): sBn = 1,
// N, sBk and offB multiples of 8/4/4. Same Gemm uniform and bindings as gemm_blocked.wgsl.
// CPU twin: gemmTwin in src/sae/twins/gemm.ts.

// The Gemm struct: shaders/gemm_common.wgsl, put in front of this file by src/gpu/gemm.ts.
@group(0) @binding(0) var<uniform> g: Gemm;                      // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<f32>;          // left operand
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;    // right operand, 4 consecutive n per element
@group(0) @binding(3) var<storage, read_write> C: array<f32>;    // result M×N
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [N] column bias (read when flags bit 1)

const TM = 4u;
const TN = 8u;

@compute @workgroup_size(8, 4)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  if (row0 >= g.M || col0 >= g.N) {
    return;
  }
  // Out-of-range rows read a clamped (valid) row and are simply not written; N is a multiple of 8, so
  // every column block is whole.
  let ra0 = g.offA + min(row0, g.M - 1u) * g.sAm;
  let ra1 = g.offA + min(row0 + 1u, g.M - 1u) * g.sAm;
  let ra2 = g.offA + min(row0 + 2u, g.M - 1u) * g.sAm;
  let ra3 = g.offA + min(row0 + 3u, g.M - 1u) * g.sAm;
  let cb = (g.offB + col0) / 4u;
  let sBk4 = g.sBk / 4u;
  // lo/hi[r]: columns col0..col0+3 / col0+4..col0+7 of row row0+r.
  var lo: array<vec4<f32>, 4>;
  var hi: array<vec4<f32>, 4>;
  for (var k = 0u; k < g.K; k++) {
    let ka = k * g.sAk;
    let b0 = B[cb + k * sBk4];
    let b1 = B[cb + k * sBk4 + 1u];
    let a0 = A[ra0 + ka];
    let a1 = A[ra1 + ka];
    let a2 = A[ra2 + ka];
    let a3 = A[ra3 + ka];
    lo[0] += a0 * b0;
    hi[0] += a0 * b1;
    lo[1] += a1 * b0;
    hi[1] += a1 * b1;
    lo[2] += a2 * b0;
    hi[2] += a2 * b1;
    lo[3] += a3 * b0;
    hi[3] += a3 * b1;
  }
  let accumulate = (g.flags & 1u) != 0u;
  let addBias = (g.flags & 2u) != 0u;
  var b0 = vec4<f32>(0.0);
  var b1 = vec4<f32>(0.0);
  if (addBias) {
    let o = g.offBias + col0;
    b0 = vec4<f32>(bias[o], bias[o + 1u], bias[o + 2u], bias[o + 3u]);
    b1 = vec4<f32>(bias[o + 4u], bias[o + 5u], bias[o + 6u], bias[o + 7u]);
  }
  for (var r = 0u; r < TM; r++) {
    let i = row0 + r;
    if (i >= g.M) {
      break;
    }
    let base = g.offC + i * g.ldc + col0;
    let v0 = lo[r] + b0;
    let v1 = hi[r] + b1;
    for (var c = 0u; c < 4u; c++) {
      var x = v0[c];
      var y = v1[c];
      if (accumulate) {
        x += C[base + c];
        y += C[base + 4u + c];
      }
      C[base + c] = x;
      C[base + 4u + c] = y;
    }
  }
}
