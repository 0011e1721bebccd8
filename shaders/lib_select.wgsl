// Library (not a kernel): the per-row radix select shared by topk.wgsl and auxk_select.wgsl.
// withSaeStructs (src/sae/gpu/wgsl.ts) puts it in front of a kernel that calls radix_select.
// One workgroup per row; an 8-bit radix select over order-preserving u32 keys finds the k-th largest
// key of the row's candidates exactly, for any k and any m, in workgroup memory, most significant byte
// first. It stops early once the bin holding the k-th key holds exactly the keys still needed: then
// every candidate whose decided bits are ≥ the prefix is on, and no tie is cut. Otherwise all 4 rounds
// run, the prefix is the k-th key itself, and its ties are ranked by feature index (lower index first:
// contiguous index ranges per invocation and a prefix sum over invocations).
// The kernel declares WG (override: invocations per workgroup) and defines the hooks
//   fn select_candidate(i: u32) -> bool           may feature i be selected (TopK: all; AuxK: dead ones)
//   fn select_key(row_base: u32, i: u32) -> u32   order-preserving key of feature i of the row
// Use: `var sel = radix_select(li, base, m, k);` from uniform control flow, then for i in sel.lo..sel.hi
// (this invocation's features, in order) `on = select_candidate(i) && selected(&sel, key)`.

const SELECT_BINS = 256u;
var<workgroup> sel_hist: array<atomic<u32>, SELECT_BINS>;
var<workgroup> sel_ties: array<u32, WG>; // per invocation: count, then rank of its first tie
var<workgroup> sel_prefix: u32;          // key bits decided so far
var<workgroup> sel_mask: u32;            // which key bits are decided
var<workgroup> sel_remaining: u32;       // how many of the k are still to be found at the prefix
var<workgroup> sel_done: u32;            // 1: every candidate key at the prefix is on (no tie to cut)

struct Selection {
  kth: u32,  // the decided prefix of the k-th key (the k-th key itself when !done)
  mask: u32, // its decided bits
  need: u32, // candidates at the prefix that are selected
  done: bool,
  lo: u32,   // this invocation's features lo..hi (contiguous, for the tie ranks)
  hi: u32,
  rank: u32, // rank among the ties of this invocation's next tie
}

fn radix_select(li: u32, row_base: u32, m: u32, k: u32) -> Selection {
  if (li == 0u) {
    sel_prefix = 0u;
    sel_mask = 0u;
    sel_remaining = min(k, m);
    sel_done = 0u;
  }
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    for (var b = li; b < SELECT_BINS; b += WG) {
      atomicStore(&sel_hist[b], 0u);
    }
    if (workgroupUniformLoad(&sel_done) != 0u) {
      break;
    }
    let prefix = sel_prefix;
    let mask = sel_mask;
    for (var i = li; i < m; i += WG) {
      if (select_candidate(i)) {
        let key = select_key(row_base, i);
        if ((key & mask) == prefix) {
          atomicAdd(&sel_hist[(key >> shift) & 255u], 1u);
        }
      }
    }
    workgroupBarrier();
    if (li == 0u) {
      var remaining = sel_remaining;
      var bin = 255u;
      loop {
        let c = atomicLoad(&sel_hist[bin]);
        if (c >= remaining || bin == 0u) {
          break;
        }
        remaining -= c;
        bin -= 1u;
      }
      sel_prefix = prefix | (bin << shift);
      sel_mask = mask | (255u << shift);
      sel_remaining = remaining;
      // Exactly the keys still needed share this prefix: all of them are on.
      sel_done = select(0u, 1u, atomicLoad(&sel_hist[bin]) == remaining);
    }
    workgroupBarrier();
  }
  let kth = workgroupUniformLoad(&sel_prefix);
  let mask = workgroupUniformLoad(&sel_mask);
  let need = workgroupUniformLoad(&sel_remaining);
  // A `let` from workgroupUniformLoad is uniform (the barriers below need it; a field of a var is not).
  let done = workgroupUniformLoad(&sel_done) != 0u;
  let per = (m + WG - 1u) / WG;
  let lo = min(li * per, m);
  let hi = min(lo + per, m);
  var rank = 0u;
  if (!done) {
    // All 4 rounds ran: mask is every bit and kth the k-th key itself; rank its ties by index.
    var myTies = 0u;
    for (var i = lo; i < hi; i++) {
      if (select_candidate(i) && select_key(row_base, i) == kth) {
        myTies++;
      }
    }
    sel_ties[li] = myTies;
    workgroupBarrier();
    if (li == 0u) {
      var run = 0u;
      for (var t = 0u; t < WG; t++) {
        let c = sel_ties[t];
        sel_ties[t] = run;
        run += c;
      }
    }
    workgroupBarrier();
    rank = sel_ties[li];
  }
  return Selection(kth, mask, need, done, lo, hi, rank);
}

/** Whether the candidate with this key is among the k; call for this invocation's candidates in order. */
fn selected(sel: ptr<function, Selection>, key: u32) -> bool {
  let masked = key & (*sel).mask;
  var on = masked > (*sel).kth || ((*sel).done && masked == (*sel).kth);
  if (!(*sel).done && key == (*sel).kth) {
    on = (*sel).rank < (*sel).need;
    (*sel).rank++;
  }
  return on;
}
