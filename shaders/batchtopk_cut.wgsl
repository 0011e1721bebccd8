// BatchTopK selection, the tie cut and the inference threshold (one invocation per row block). Ties at
// v* go to the lowest flat indices n·m + i (the reference's rule): the cut row r is the first batch row
// where the running sum of row_ties reaches `remaining`; the dispatch whose block holds r writes the
// column of that row's last tie taken. The first block's dispatch updates the inference threshold θ
// (SAELens BatchTopKTrainingSAE.update_topk_threshold, lr = topk_threshold_lr), from this step's f:
//   θ ← (1 − lr)·θ + lr·v*     when anything is selected (v* = the smallest selected f), else unchanged
// Select-state words: shaders/lib_batchtopk.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                       // N, m, topk_threshold_lr
@group(0) @binding(1) var<storage, read> pre: array<f32>;           // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> row_ties: array<u32>;      // [N] from batchtopk_ties
@group(0) @binding(3) var<storage, read_write> sel: array<u32>;     // [8] select state
@group(0) @binding(4) var<storage, read_write> state: array<f32>;   // trainer state: [6] θ
@group(0) @binding(5) var<uniform> blk: Block;                      // the row block this dispatch covers

@compute @workgroup_size(1)
fn main() {
  if (sel[BTK_EMPTY] != 0u) {
    return;
  }
  let vs = sel[BTK_PREFIX];
  if (blk.first != 0u) {
    let lr = p.topk_threshold_lr;
    state[STATE_TOPK_THRESHOLD] = (1.0 - lr) * state[STATE_TOPK_THRESHOLD] + lr * bitcast<f32>(vs);
  }
  let need = sel[BTK_REMAIN];
  var cum = 0u;
  var r = 0u;
  for (; r < p.N; r++) {
    if (cum + row_ties[r] >= need) {
      break;
    }
    cum += row_ties[r];
  }
  if (r < blk.row0 || r >= blk.row0 + blk.rows) {
    return;
  }
  var seen = 0u;
  var col = 0u;
  for (var i = 0u; i < p.m; i++) {
    let v = pre[(r - blk.row0) * p.m + i];
    if (v > 0.0 && btk_key(v) == vs) {
      seen++;
      if (seen == need - cum) {
        col = i;
        break;
      }
    }
  }
  sel[BTK_CUT_ROW] = r;
  sel[BTK_CUT_COL] = col;
}
