// C = (A·Bᵀ) ⊙ [mask ≠ 0]: the product computed only where the mask is non-zero, 0 elsewhere (a sampled
// dense-dense product). TopK's backward needs ∂L/∂f = g_x̂·W_decᵀ only where f is active (SPEC §5:
// g_pre = ∂L/∂f ⊙ active, feature_grad.wgsl) and AuxK's g_ê·W_decᵀ only where f_aux ≠ 0 (aux_add.wgsl),
// so the masked product costs O(rows·m) mask tests + O(nnz·d) products instead of the dense NT GEMM's
// O(rows·m·d). A workgroup per row of C (and chunk of WG·CPT columns); an active element sums its d
// products in order.
// The mask test is on the bits (±0 masked out, NaN kept), as in topk_spmm.wgsl. CPU twin: maskedNtTwin.
// This is the vec4 variant of topk_masked_nt.wgsl: A and B are read 4 reduction terms at a time, which
// the host allows when K, offA and offB are multiples of 4 (src/sae/gpu/sparseGemm.ts, maskedVec4).

struct Masked {
  rows: u32,  // rows of C
  cols: u32,  // columns of C
  K: u32,     // reduction length (d)
  offA: u32,  // A(r, t) = A[offA + r·K + t]      (g_x̂ or g_ê rows of the row block)
  offB: u32,  // B(c, t) = B[offB + c·K + t]      (W_dec rows of the feature block)
  offM: u32,  // mask(r, c) = M[offM + r·ldc + c] (f or f_aux of the row block)
  offC: u32,  // C(r, c) = C[offC + r·ldc + c]
  ldc: u32,   // row stride of the mask and of C (d_sae)
}

@group(0) @binding(0) var<uniform> s: Masked;                 // sizes, offsets
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>; // [rows, K], 4 consecutive terms each
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>; // [cols, K], 4 consecutive terms each
@group(0) @binding(3) var<storage, read> M: array<f32>;       // mask, same layout as C
@group(0) @binding(4) var<storage, read_write> C: array<f32>; // result

// Invocations per workgroup: 32 on SwiftShader, 256 on real GPUs; the host picks.
override WG: u32 = 256u;
// Columns per invocation (c, c + WG, …): fewer, fuller workgroups (one per element was 16× as many
// workgroups, and SwiftShader pays per workgroup).
const CPT = 16u;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let chunks = (s.cols + WG * CPT - 1u) / (WG * CPT);
  let w = wid.x + wid.y * nwg.x;
  let r = w / chunks;
  if (r >= s.rows) {
    return;
  }
  let a = (s.offA + r * s.K) / 4u;
  for (var j = 0u; j < CPT; j++) {
    let c = (w % chunks) * WG * CPT + j * WG + li;
    if (c >= s.cols) {
      break;
    }
    let at = r * s.ldc + c;
    var acc = 0.0;
    if ((bitcast<u32>(M[s.offM + at]) & 0x7fffffffu) != 0u) {
      let b = (s.offB + c * s.K) / 4u;
      for (var t = 0u; t < s.K / 4u; t++) {
        acc += dot(A[a + t], B[b + t]);
      }
    }
    C[s.offC + at] = acc;
  }
}
