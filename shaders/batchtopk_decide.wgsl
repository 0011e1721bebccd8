// BatchTopK selection, radix decision (one invocation), K = k·N_valid (btk_budget):
//   RESET (the step's first BatchTopK pass): select state and histogram to zero, nothing else.
//   after batchtopk_hist's round r:
//   round 0: take = min(K, Σ hist) (a batch with fewer positive entries than K takes them all);
//            take = 0 ends the selection (BTK_EMPTY)
//   the bin b holding the remaining-th largest key: the largest b with Σ_{b' ≥ b} hist ≥ remaining;
//   remaining −= Σ_{b' > b} hist;  prefix |= b << (24 − 8r);  mask |= 255 << (24 − 8r);  round += 1
// and clears hist for the next round. After four rounds prefix is the key v* of the take-th largest
// entry and remaining is how many entries equal to v* are taken (the lowest flat indices:
// batchtopk_ties / batchtopk_cut). Select-state words: shaders/lib_batchtopk.wgsl.
// CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                       // k, n_valid
@group(0) @binding(1) var<storage, read_write> sel: array<u32>;     // [8] select state
@group(0) @binding(2) var<storage, read_write> hist: array<u32, 256>; // this round's counts (cleared here)

/** true: the reset pass at the start of a step. */
override RESET: bool = false;

@compute @workgroup_size(1)
fn main() {
  if (RESET) {
    for (var w = 0u; w < BTK_WORDS; w++) {
      sel[w] = 0u;
    }
  } else {
    let round = sel[BTK_ROUND];
    if (round < 4u) {
      if (round == 0u) {
        var total = 0u;
        for (var b = 0u; b < 256u; b++) {
          total += hist[b];
        }
        sel[BTK_REMAIN] = min(btk_budget(p.k, p.n_valid), total);
        sel[BTK_TAKE] = sel[BTK_REMAIN];
        sel[BTK_EMPTY] = select(0u, 1u, sel[BTK_REMAIN] == 0u);
      }
      if (sel[BTK_EMPTY] != 0u) {
        sel[BTK_ROUND] = 4u;
      } else {
        let need = sel[BTK_REMAIN];
        var above = 0u;
        var b = 255u;
        loop {
          if (above + hist[b] >= need || b == 0u) {
            break;
          }
          above += hist[b];
          b -= 1u;
        }
        let shift = 24u - 8u * round;
        sel[BTK_REMAIN] = need - above;
        sel[BTK_PREFIX] |= b << shift;
        sel[BTK_MASK] |= 255u << shift;
        sel[BTK_ROUND] = round + 1u;
      }
    }
  }
  for (var b = 0u; b < 256u; b++) {
    hist[b] = 0u;
  }
}
