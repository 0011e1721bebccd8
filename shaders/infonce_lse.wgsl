// T-SAE InfoNCE, step 3 of 5 (src/sae/reference/infonce.ts): log-sum-exp of every row and column of S
// and the loss. One workgroup; invocation li handles k = li, li + WG, … < 2P:
//   lse[k]     = log Σ_q exp(S[k, q])          k < P   (row k, max-shifted)
//   lse[P + q] = log Σ_p exp(S[p, q])                  (column q)
//   loss[0]    = Σ_k (lse[k] − S[k mod P, k mod P]) / (2P)       (the symmetric cross-entropy)
// Struct Nce: shaders/method_common.wgsl. CPU twin: infoNceTwin (src/sae/twins/infonce.ts).
@group(0) @binding(0) var<uniform> p: Nce;                        // P
@group(0) @binding(1) var<storage, read> logits: array<f32>;      // [P, P]
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;   // [2P] rows, then columns
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;  // [1]

override WG: u32 = 64u;
var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  let P = p.P;
  var acc = 0.0;
  for (var k = li; k < 2u * P; k += WG) {
    let col = k >= P;
    let r = select(k, k - P, col);
    var mx = -3.4e38;
    for (var j = 0u; j < P; j++) {
      mx = max(mx, select(logits[r * P + j], logits[j * P + r], col));
    }
    var s = 0.0;
    for (var j = 0u; j < P; j++) {
      s += exp(select(logits[r * P + j], logits[j * P + r], col) - mx);
    }
    let l = mx + log(s);
    lse[k] = l;
    acc += l - logits[r * P + r];
  }
  part[li] = acc;
  workgroupBarrier();
  if (li == 0u) {
    var t = 0.0;
    for (var i = 0u; i < WG; i++) {
      t += part[i];
    }
    loss[0] = select(0.0, t / f32(2u * P), P > 0u);
  }
}
