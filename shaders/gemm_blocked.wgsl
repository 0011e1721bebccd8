// C = A·B (+ C) (+ bias per column), strided so one kernel serves the NN, TN and NT layouts of the SAE
// step without transposed copies (PERF-NOTES): element (i, k) of A is A[offA + i·sAm + k·sAk], element
// (k, j) of B is B[offB + k·sBk + j·sBn], C is row-major with leading dimension ldc.
// Design for SwiftShader (CPU emulation): barrier-free, each invocation keeps a 4×8 register block
// (4 rows × 8 columns), workgroup 8×4 invocations = a 16×64 tile. PERF-NOTES measured this shape as the
// fastest of ten on SwiftShader. CPU twin: gemmTwin in src/sae/twins/gemm.ts.

// The Gemm struct: shaders/gemm_common.wgsl, put in front of this file by src/gpu/gemm.ts.
@group(0) @binding(0) var<uniform> g: Gemm;                      // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<f32>;          // left operand
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
  var ra: array<u32, 4>;
  for (var r = 0u; r < TM; r++) {
    ra[r] = g.offA + min(row0 + r, g.M - 1u) * g.sAm;
  }
  var cb: array<u32, 8>;
  for (var c = 0u; c < TN; c++) {
    cb[c] = g.offB + min(col0 + c, g.N - 1u) * g.sBn;
  }
  // acc[c] holds column col0+c for the 4 rows.
  var acc: array<vec4<f32>, 8>;
  for (var k = 0u; k < g.K; k++) {
    let a = vec4<f32>(A[ra[0] + k * g.sAk], A[ra[1] + k * g.sAk], A[ra[2] + k * g.sAk], A[ra[3] + k * g.sAk]);
    let kb = k * g.sBk;
    for (var c = 0u; c < TN; c++) {
      acc[c] += a * B[cb[c] + kb];
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
