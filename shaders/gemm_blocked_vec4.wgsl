// C = A·B (+ C) (+ bias per column): the SwiftShader design of gemm_blocked.wgsl (barrier-free, 4×8 register
// block per invocation, workgroup 8×4) with A read as vec4 along k, as PERF-NOTES found fastest. Measured
// here (Dawn/SwiftShader, 256×1024×512, interleaved runs): ≈2× gemm_blocked.wgsl for NN, ≈1.5× for NT.
// Preconditions, checked on the host (src/gpu/gemm.ts, vec4Eligible): A contiguous along k (sAk = 1),
// K, sAm and offA multiples of 4. Same Gemm uniform and bindings as gemm_blocked.wgsl.
// CPU twin: gemmTwin in src/sae/twins/gemm.ts.

// The Gemm struct: shaders/gemm_common.wgsl, put in front of this file by src/gpu/gemm.ts.
@group(0) @binding(0) var<uniform> g: Gemm;                      // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;    // left operand, 4 consecutive k per element
@group(0) @binding(2) var<storage, read> B: array<f32>;          // right operand
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
  // Out-of-range rows/columns read a clamped (valid) element and are simply not written.
  let a0 = (g.offA + min(row0, g.M - 1u) * g.sAm) / 4u;
  let a1 = (g.offA + min(row0 + 1u, g.M - 1u) * g.sAm) / 4u;
  let a2 = (g.offA + min(row0 + 2u, g.M - 1u) * g.sAm) / 4u;
  let a3 = (g.offA + min(row0 + 3u, g.M - 1u) * g.sAm) / 4u;
  var cb: array<u32, 8>;
  for (var c = 0u; c < TN; c++) {
    cb[c] = g.offB + min(col0 + c, g.N - 1u) * g.sBn;
  }
  // acc[c] holds column col0+c for the 4 rows.
  var acc: array<vec4<f32>, 8>;
  for (var k4 = 0u; k4 < g.K / 4u; k4++) {
    let r0 = A[a0 + k4];
    let r1 = A[a1 + k4];
    let r2 = A[a2 + k4];
    let r3 = A[a3 + k4];
    let k = k4 * 4u;
    for (var c = 0u; c < TN; c++) {
      let b = vec4<f32>(
        B[cb[c] + k * g.sBk],
        B[cb[c] + (k + 1u) * g.sBk],
        B[cb[c] + (k + 2u) * g.sBk],
        B[cb[c] + (k + 3u) * g.sBk],
      );
      acc[c] += vec4<f32>(dot(r0, b), dot(r1, b), dot(r2, b), dot(r3, b));
    }
  }
  let accumulate = (g.flags & 1u) != 0u;
  let addBias = (g.flags & 2u) != 0u;
  for (var c = 0u; c < TN; c++) {
    let j = col0 + c;
    if (j >= g.N) {
      break;
    }
    var b = 0.0;
    if (addBias) {
      b = bias[g.offBias + j];
    }
    for (var r = 0u; r < TM; r++) {
      let i = row0 + r;
      if (i < g.M) {
        let idx = g.offC + i * g.ldc + j;
        var v = acc[c][r] + b;
        if (accumulate) {
          v += C[idx];
        }
        C[idx] = v;
      }
    }
  }
}
