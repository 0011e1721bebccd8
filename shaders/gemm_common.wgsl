// The Gemm uniform shared by every GEMM kernel (gemm_*.wgsl): WGSL has no includes, so src/gpu/gemm.ts
// puts this file in front of each kernel's code (withGemmStruct). The host writes it in gemmUniform.
// Element (i, k) of A is A[offA + i·sAm + k·sAk], element (k, j) of B is B[offB + k·sBk + j·sBn], C is
// row-major with leading dimension ldc; one kernel serves the NN, TN and NT layouts of the SAE step.

struct Gemm {
  M: u32,     // rows of C
  N: u32,     // columns of C
  K: u32,     // reduction length
  flags: u32, // bit 0: add the existing C (accumulate); bit 1: add bias[j]
  sAm: u32,   // stride of A between rows of C
  sAk: u32,   // stride of A along k
  sBk: u32,   // stride of B along k
  sBn: u32,   // stride of B between columns of C
  offA: u32,  // element offsets into the bound buffers
  offB: u32,
  offC: u32,
  ldc: u32,   // row stride of C
  offBias: u32, // element offset into bias (column j reads bias[offBias + j])
  _g0: u32,
  _g1: u32,
  _g2: u32,
}
