// C = A·B (+ C) (+ bias per column) with B, a weight matrix, stored as IEEE halves packed two to a u32
// (the language model's f16 weights, SPEC §9): element (k, j) of B is half number offB + k·sBk + j of the
// array (sBn = 1: pairs are adjacent columns), decoded with unpack2x16float, so any adapter runs it (no
// shader-f16 needed) and the arithmetic stays f32. A is f32 with the usual strides; offB and sBk are even
// (each row of B starts a word; a block with an odd column count is stored padded by one half).
// Barrier-free register blocks as gemm_blocked.wgsl: each invocation 4 rows × 8 columns, reading 4 words
// (8 halves) of B per k; a workgroup of 8×4 covers 16×64 of C.
// CPU twin: gemmTwin (src/sae/twins/gemm.ts) on the f16-rounded B (src/lm/gpu/f16Weights.ts).

// The Gemm struct: shaders/gemm_common.wgsl, put in front of this file by src/lm/gpu/gemmF16.ts.
@group(0) @binding(0) var<uniform> g: Gemm;                      // sizes, strides (B's in halves), flags
@group(0) @binding(1) var<storage, read> A: array<f32>;          // left operand, f32
@group(0) @binding(2) var<storage, read> B: array<u32>;          // right operand: packed halves
@group(0) @binding(3) var<storage, read_write> C: array<f32>;    // result M×N
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [N] column bias (read when flags bit 1)

const TM = 4u;
const TW = 4u; // words of B per invocation and k: 8 columns

@compute @workgroup_size(8, 4)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TW * 2u;
  if (row0 >= g.M || col0 >= g.N) {
    return;
  }
  var ra: array<u32, 4>;
  for (var r = 0u; r < TM; r++) {
    ra[r] = g.offA + min(row0 + r, g.M - 1u) * g.sAm;
  }
  // Word of each column pair in row 0 of B; pairs past N read the last (valid) pair and are not written.
  var wb: array<u32, 4>;
  for (var c = 0u; c < TW; c++) {
    wb[c] = (g.offB + (min(col0 + 2u * c, g.N - 1u) & ~1u)) / 2u;
  }
  let kw = g.sBk / 2u;
  var acc: array<vec4<f32>, 8>; // acc[c] holds column col0+c for the 4 rows
  for (var k = 0u; k < g.K; k++) {
    let a = vec4<f32>(A[ra[0] + k * g.sAk], A[ra[1] + k * g.sAk], A[ra[2] + k * g.sAk], A[ra[3] + k * g.sAk]);
    for (var c = 0u; c < TW; c++) {
      let b = unpack2x16float(B[wb[c] + k * kw]);
      acc[2u * c] += a * b.x;
      acc[2u * c + 1u] += a * b.y;
    }
  }
  let accumulate = (g.flags & 1u) != 0u;
  let addBias = (g.flags & 2u) != 0u;
  for (var c = 0u; c < 2u * TW; c++) {
    let j = col0 + c;
    if (j >= g.N) {
      break;
    }
    var bj = 0.0;
    if (addBias) {
      bj = bias[g.offBias + j];
    }
    for (var r = 0u; r < TM; r++) {
      let i = row0 + r;
      if (i < g.M) {
        let idx = g.offC + i * g.ldc + j;
        var v = acc[c][r] + bj;
        if (accumulate) {
          v += C[idx];
        }
        C[idx] = v;
      }
    }
  }
}
