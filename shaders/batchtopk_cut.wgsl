// BatchTopK selection, the tie cut and the threshold (one invocation). Ties at v* go to the lowest flat
// indices n·m + i (the reference's rule): the cut row is the first row where the running sum of
// row_ties reaches `remaining`, the cut column the column of that row's last tie taken. Then the
// inference threshold (the T-SAE code's update_threshold, applied when p.update ≠ 0):
//   θ_min = value of v* (the smallest selected f), or 0 when nothing is selected
//   θ ← θ_min if θ < 0 (unset), else β·θ + (1 − β)·θ_min
// Struct Btk and state words: method_common.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Btk;                          // N, m, update, β
@group(0) @binding(1) var<storage, read> pre: array<f32>;           // [N, m]
@group(0) @binding(2) var<storage, read> row_ties: array<u32>;      // [N] from batchtopk_ties
@group(0) @binding(3) var<storage, read_write> state: array<u32>;   // [8] select state
@group(0) @binding(4) var<storage, read_write> threshold: array<f32>; // [1] θ (−1: not set yet)

@compute @workgroup_size(1)
fn main() {
  var theta_min = 0.0;
  if (state[BTK_EMPTY] == 0u) {
    let vs = state[BTK_PREFIX];
    theta_min = bitcast<f32>(vs);
    let need = state[BTK_REMAIN];
    var cum = 0u;
    var r = 0u;
    for (; r < p.N; r++) {
      if (cum + row_ties[r] >= need) {
        break;
      }
      cum += row_ties[r];
    }
    var seen = 0u;
    var col = 0u;
    for (var i = 0u; i < p.m; i++) {
      let v = pre[r * p.m + i];
      if (v > 0.0 && btk_key(v) == vs) {
        seen++;
        if (seen == need - cum) {
          col = i;
          break;
        }
      }
    }
    state[BTK_CUT_ROW] = r;
    state[BTK_CUT_COL] = col;
  }
  if (p.update != 0u) {
    let t = threshold[0];
    threshold[0] = select(p.beta * t + (1.0 - p.beta) * theta_min, theta_min, t < 0.0);
  }
}
