// C = A·B (+ C) (+ bias per column) where A is sparse but stored dense: the terms with A = 0 are skipped.
// TopK training multiplies by f (k non-zeros per row of d_sae) and AuxK's f_aux (k_aux per row, none while
// no feature is dead), so the decoder x̂ = f·W_dec + b_dec (SPEC §3), ê = f_aux·W_dec and the decoder gradient
// ∂W_dec = fᵀ·g_x̂ (SPEC §5) cost O(rows·K) zero tests + O(nnz·cols) products instead of a dense GEMM's
// O(rows·K·cols) (as TopK SAEs decode in SAELens / Gao et al. 2024). ∂W_enc = xcᵀ·g_pre is the same
// product transposed (A = g_preᵀ, non-zero only at active features; C written with its strides).
// One workgroup per (row of C, chunk of WG·CPI columns); every invocation walks the whole reduction,
// reads the same A element (uniform branch, no barriers) and keeps CPI columns (c, c + WG, …) in
// registers. Summation runs in reduction order, one term at a time. CPU twin: sparseGemmTwin.

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
  chunks: u32, // column chunks per row: ceil(cols / (WG·CPI))
  _s0: u32,
  _s1: u32,
}

@group(0) @binding(0) var<uniform> s: Sparse;                 // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<f32>;       // sparse left operand (zeros skipped)
@group(0) @binding(2) var<storage, read> B: array<f32>;       // dense right operand
@group(0) @binding(3) var<storage, read_write> C: array<f32>; // result
@group(0) @binding(4) var<storage, read> bias: array<f32>;    // [cols] column bias (read when flags bit 1)

// Invocations per workgroup: 256 on real GPUs, 32 on SwiftShader (one CPU lane each); the host picks.
override WG: u32 = 256u;
// Columns per invocation: the zero tests of A are shared by CPI columns.
const CPI = 8u;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  let r = w / s.chunks;
  if (r >= s.rows) {
    return;
  }
  let c0 = (w % s.chunks) * WG * CPI + li;
  // Columns past the end read a clamped (valid) element and are not written.
  var cb: array<u32, CPI>;
  for (var j = 0u; j < CPI; j++) {
    cb[j] = min(c0 + j * WG, s.cols - 1u);
  }
  var acc: array<f32, CPI>;
  let aRow = s.offA + r * s.sAr;
  for (var t = 0u; t < s.K; t++) {
    let a = A[aRow + t * s.sAk];
    // Skip ±0 only, tested on the bits: a float compare may treat NaN as 0 (WGSL lets implementations
    // assume no NaN), and a NaN in A must reach C as it would through the dense GEMM.
    if ((bitcast<u32>(a) & 0x7fffffffu) != 0u) {
      let bRow = s.offB + t * s.sBk;
      for (var j = 0u; j < CPI; j++) {
        acc[j] += a * B[bRow + cb[j]];
      }
    }
  }
  let accumulate = (s.flags & 1u) != 0u;
  let addBias = (s.flags & 2u) != 0u;
  for (var j = 0u; j < CPI; j++) {
    let c = c0 + j * WG;
    if (c >= s.cols) {
      break;
    }
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
