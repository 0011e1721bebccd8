// TopK activation (SPEC §3): f = pre where pre is among the k largest of its row and pre > 0, else 0.
// Ties at the k-th value are broken by the lower feature index (the reference does the same).
// One workgroup per row: an 8-bit radix select over order-preserving keys finds the k-th largest key
// exactly, for any k and any d_sae, in workgroup memory. Only positive values can be active, so the key
// of a value ≤ 0 is 0 and the key of a positive float is its bit pattern (monotonic for positive floats).
// The select stops early once the bin holding the k-th key holds exactly the keys still needed: then every
// key whose decided bits are ≥ the prefix is on, and ties cannot be cut (measured on SwiftShader, d_sae 512,
// k 32: most rows finish after 2 of the 4 rounds). Padding rows get f = 0. CPU twin: topkTwin.

@group(0) @binding(0) var<uniform> p: Params;                  // sizes and k
@group(0) @binding(1) var<storage, read> pre: array<f32>;      // [rows, m] pre-activations of the row block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>; // [N] bit 0 start, bit 1 valid
@group(0) @binding(3) var<storage, read_write> f: array<f32>;  // [rows, m] features of the row block
@group(0) @binding(4) var<uniform> blk: Block; // the row block this dispatch covers (pre/f hold only its rows)

// Invocations per workgroup: 256 on real GPUs; the trainer picks 4 on SwiftShader, where every invocation
// is a CPU lane that pays at each barrier (measured in src/sae/gpu/saePasses.ts, selectWg).
override WG: u32 = 256u;
const BINS = 256u;
var<workgroup> hist: array<atomic<u32>, BINS>;
var<workgroup> ties: array<u32, WG>; // per-invocation count of elements equal to the k-th key
var<workgroup> sel_prefix: u32;      // key bits decided so far
var<workgroup> sel_mask: u32;        // which key bits are decided
var<workgroup> sel_remaining: u32;   // how many of the k are still to be found at the prefix
var<workgroup> sel_done: u32;        // 1: every key at the prefix is on (no tie to cut)

fn key_of(v: f32) -> u32 {
  return select(0u, bitcast<u32>(v), v > 0.0);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let n = wid.x + wid.y * nwg.x; // row within the block
  if (n >= blk.rows) {
    return; // uniform across the workgroup
  }
  let base = n * p.m;
  if ((rowflags[blk.row0 + n] & 2u) == 0u) {
    for (var i = li; i < p.m; i += WG) {
      f[base + i] = 0.0;
    }
    return; // uniform: a padding row has no active features
  }
  if (li == 0u) {
    sel_prefix = 0u;
    sel_mask = 0u;
    sel_remaining = min(p.k, p.m);
    sel_done = 0u;
  }
  // Radix select, most significant byte first.
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    for (var b = li; b < BINS; b += WG) {
      atomicStore(&hist[b], 0u);
    }
    if (workgroupUniformLoad(&sel_done) != 0u) {
      break;
    }
    let prefix = sel_prefix;
    let mask = sel_mask;
    for (var i = li; i < p.m; i += WG) {
      let key = key_of(pre[base + i]);
      if ((key & mask) == prefix) {
        atomicAdd(&hist[(key >> shift) & 255u], 1u);
      }
    }
    workgroupBarrier();
    if (li == 0u) {
      var remaining = sel_remaining;
      var bin = 255u;
      loop {
        let c = atomicLoad(&hist[bin]);
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
      sel_done = select(0u, 1u, atomicLoad(&hist[bin]) == remaining);
    }
    workgroupBarrier();
  }
  let kth = workgroupUniformLoad(&sel_prefix);
  let mask = workgroupUniformLoad(&sel_mask);
  let need = workgroupUniformLoad(&sel_remaining); // elements at the prefix that are selected
  let done = workgroupUniformLoad(&sel_done) != 0u;
  // Contiguous blocks per invocation so that a prefix sum over invocations ranks ties by index.
  let per = (p.m + WG - 1u) / WG;
  let lo = min(li * per, p.m);
  let hi = min(lo + per, p.m);
  var rank = 0u;
  if (!done) {
    // All 4 rounds ran: mask is every bit and kth the k-th key itself; rank its ties by index.
    var myTies = 0u;
    for (var i = lo; i < hi; i++) {
      if (key_of(pre[base + i]) == kth) {
        myTies++;
      }
    }
    ties[li] = myTies;
    workgroupBarrier();
    if (li == 0u) {
      var run = 0u;
      for (var t = 0u; t < WG; t++) {
        let c = ties[t];
        ties[t] = run;
        run += c;
      }
    }
    workgroupBarrier();
    rank = ties[li];
  }
  for (var i = lo; i < hi; i++) {
    let v = pre[base + i];
    let key = key_of(v);
    let masked = key & mask;
    var on = masked > kth || (done && masked == kth);
    if (!done && key == kth) {
      on = rank < need;
      rank++;
    }
    // A key of 0 (v ≤ 0) is never on: with fewer than k positive values every positive one is on.
    f[base + i] = select(0.0, v, on && key > 0u);
  }
}
