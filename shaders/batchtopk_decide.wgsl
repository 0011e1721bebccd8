// BatchTopK selection, radix decision (one invocation): after batchtopk_hist's round r,
//   round 0: take = min(K, Σ hist) (a batch with fewer positive entries than K takes them all);
//            take = 0 ends the selection (BTK_EMPTY)
//   the bin b holding the remaining-th largest key: the largest b with Σ_{b' ≥ b} hist ≥ remaining;
//   remaining −= Σ_{b' > b} hist;  prefix |= b << (24 − 8r);  mask |= 255 << (24 − 8r);  round += 1
// and clears hist for the next round. After four rounds prefix is the key v* of the take-th largest
// entry and remaining is how many entries equal to v* are taken (the lowest flat indices:
// batchtopk_ties / batchtopk_cut). Struct Btk and state words: method_common.wgsl.
// CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Btk;                          // K
@group(0) @binding(1) var<storage, read_write> state: array<u32>;   // [8] select state
@group(0) @binding(2) var<storage, read_write> hist: array<u32, 256>; // this round's counts (cleared here)

@compute @workgroup_size(1)
fn main() {
  let round = state[BTK_ROUND];
  if (round < 4u) {
    if (round == 0u) {
      var total = 0u;
      for (var b = 0u; b < 256u; b++) {
        total += hist[b];
      }
      state[BTK_REMAIN] = min(p.K, total);
      state[BTK_TAKE] = state[BTK_REMAIN];
      state[BTK_EMPTY] = select(0u, 1u, state[BTK_REMAIN] == 0u);
    }
    if (state[BTK_EMPTY] != 0u) {
      state[BTK_ROUND] = 4u;
    } else {
      let need = state[BTK_REMAIN];
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
      state[BTK_REMAIN] = need - above;
      state[BTK_PREFIX] |= b << shift;
      state[BTK_MASK] |= 255u << shift;
      state[BTK_ROUND] = round + 1u;
    }
  }
  for (var b = 0u; b < 256u; b++) {
    hist[b] = 0u;
  }
}
