// C = A·B (+ C) (+ bias per column) where A is sparse but stored dense: the terms with A = 0 are skipped.
// TopK training multiplies by f (k non-zeros per row of d_sae) and AuxK's f_aux (k_aux per row, none while
// no feature is dead), so the decoder x̂ = f·W_dec + b_dec (SPEC §3), ê = f_aux·W_dec and the decoder gradient
// ∂W_dec = fᵀ·g_x̂ (SPEC §5) cost O(rows·K) zero tests + O(nnz·cols) products instead of a dense GEMM's
// O(rows·K·cols) (as TopK SAEs decode in SAELens / Gao et al. 2024). ∂W_enc = xcᵀ·g_pre is the same
// product transposed (A = g_preᵀ, non-zero only at active features; C written with its strides).
// One invocation per (row of C, chunk of CPI consecutive columns): it walks its row of A once and keeps the
// CPI sums in registers; no barriers. Invocations of a workgroup take consecutive rows, so each row of A
// is read by ceil(cols / CPI) invocations only (with one workgroup per row and invocations across columns,
// every invocation re-read the whole row: 3–5× slower than the dense GEMM on SwiftShader; this layout is
// 1.5–2× faster than it at d 64, d_sae 512, k 32, 1024 rows, and the gap grows with d_sae/k). Summation
// runs in reduction order, one term at a time. CPU twin: sparseGemmTwin.

struct Sparse {
  rows: u32,   // rows of C
  cols: u32,   // columns of C
  K: u32,      // reduction length
  flags: u32,  // bit 0: add the existing C (accumulate); bit 1: add bias[offBias + c]
  offA: u32,   // element offsets and strides (elements) into the bound buffers
  sAr: u32,    // A: stride between rows of C
  sAk: u32,    // A: stride along the reduction
  offB: u32,
  sBk: u32,    // B: stride along the reduction (B is contiguous along columns)
  offC: u32,
  sCr: u32,    // C: stride between rows
  sCc: u32,    // C: stride between columns (1, or m for the transposed ∂W_enc)
  offBias: u32,
  chunks: u32, // column chunks per row: ceil(cols / CPI)
  _s0: u32,
  _s1: u32,
}

@group(0) @binding(0) var<uniform> s: Sparse;                 // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<f32>;       // sparse left operand (zeros skipped)
@group(0) @binding(2) var<storage, read> B: array<f32>;       // dense right operand
@group(0) @binding(3) var<storage, read_write> C: array<f32>; // result
@group(0) @binding(4) var<storage, read> bias: array<f32>;    // [cols] column bias (read when flags bit 1)

// Invocations per workgroup, one row of C each: 32 on SwiftShader, 256 on real GPUs; the host picks.
override WG: u32 = 256u;
// Consecutive columns per invocation: one walk over a row of A serves CPI columns.
const CPI = 16u;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  let r = (w / s.chunks) * WG + li;
  if (r >= s.rows) {
    return;
  }
  let c0 = (w % s.chunks) * CPI;
  // Columns past the end read a clamped (valid) element and are not written.
  let cLast = min(c0 + CPI, s.cols) - 1u - c0;
  var acc: array<f32, CPI>;
  let aRow = s.offA + r * s.sAr;
  for (var t = 0u; t < s.K; t++) {
    let a = A[aRow + t * s.sAk];
    // Skip ±0 only, tested on the bits: a float compare may treat NaN as 0 (WGSL lets implementations
    // assume no NaN), and a NaN in A must reach C as it would through the dense GEMM.
    if ((bitcast<u32>(a) & 0x7fffffffu) != 0u) {
      let bRow = s.offB + t * s.sBk + c0;
      for (var j = 0u; j < CPI; j++) {
        acc[j] += a * B[bRow + min(j, cLast)];
      }
    }
  }
  let accumulate = (s.flags & 1u) != 0u;
  let addBias = (s.flags & 2u) != 0u;
  for (var j = 0u; j <= cLast; j++) {
    let c = c0 + j;
    var v = acc[j];
    if (addBias) {
      v += bias[s.offBias + c];
    }
    let idx = s.offC + r * s.sCr + c * s.sCc;
    if (accumulate) {
      v += C[idx];
    }
    C[idx] = v;
  }
}
