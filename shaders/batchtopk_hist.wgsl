// BatchTopK selection over the whole batch (Bussmann et al. 2024; SAELens BatchTopK; float64 reference
// batchTopkActive in src/sae/reference/batchTopk.ts), radix pass: one invocation per entry (n, i) of this
// row block's pre; for a valid row's positive entry whose key matches the decided prefix, count its next
// 8 key bits:   hist[(key >> (24 − 8·round)) & 255] += 1
// Dispatched for every row block into the one histogram, then batchtopk_decide; four rounds.
// LOCAL_HIST (the trainer sets it with its real-GPU 'tiled' design): counts go to a workgroup histogram
// first and each workgroup adds its non-zero bins to `hist`, since positive floats of one scale share a
// few top-byte bins and one global atomic per entry queues on those few words (not measured on a real
// GPU yet). On SwiftShader, which emulates workgroup atomics and barriers, the local histogram made a
// whole training step 9× slower (d 16, d_sae 64, 256 tokens: 70 → 630 ms), so there it is off.
// Select-state words (BTK_*): shaders/lib_batchtopk.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                      // m
@group(0) @binding(1) var<storage, read> pre: array<f32>;          // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;     // [N] bit 0 start, bit 1 valid
@group(0) @binding(3) var<storage, read> sel: array<u32>;          // [8] select state
@group(0) @binding(4) var<storage, read_write> hist: array<atomic<u32>, 256>; // this round's counts
@group(0) @binding(5) var<uniform> blk: Block;                     // the row block this dispatch covers

override WG: u32 = 64u;
/** true: count in a workgroup histogram, then add its non-zero bins to `hist`. */
override LOCAL_HIST: bool = false;

var<workgroup> local_hist: array<atomic<u32>, 256>;

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  if (LOCAL_HIST) {
    for (var b = li; b < 256u; b += WG) {
      atomicStore(&local_hist[b], 0u);
    }
    workgroupBarrier();
  }
  let k = gid.x + gid.y * nwg.x * WG;
  let round = sel[BTK_ROUND];
  if (k < blk.rows * p.m && round < 4u) {
    let v = pre[k];
    if ((rowflags[blk.row0 + k / p.m] & 2u) != 0u && v > 0.0) {
      let key = btk_key(v);
      if ((key & sel[BTK_MASK]) == sel[BTK_PREFIX]) {
        let bin = (key >> (24u - 8u * round)) & 255u;
        if (LOCAL_HIST) {
          atomicAdd(&local_hist[bin], 1u);
        } else {
          atomicAdd(&hist[bin], 1u);
        }
      }
    }
  }
  if (LOCAL_HIST) {
    workgroupBarrier();
    for (var b = li; b < 256u; b += WG) {
      let c = atomicLoad(&local_hist[b]);
      if (c != 0u) {
        atomicAdd(&hist[b], c);
      }
    }
  }
}
