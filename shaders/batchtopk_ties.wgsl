// BatchTopK selection, ties per row (one invocation per row of the block): how many of the row's
// entries are positive, valid and have exactly the key v* of the take-th largest (BTK_PREFIX after four
// rounds):   row_ties[n] = #{i : key(pre_ni) = v*}   (0 when nothing is selected), n the batch row.
// Select-state words: shaders/lib_batchtopk.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                       // m
@group(0) @binding(1) var<storage, read> pre: array<f32>;           // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;      // [N] bit 1 valid
@group(0) @binding(3) var<storage, read> sel: array<u32>;           // [8] select state
@group(0) @binding(4) var<storage, read_write> row_ties: array<u32>; // [N] ties at v* per batch row
@group(0) @binding(5) var<uniform> blk: Block;                      // the row block this dispatch covers

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let nl = gid.x + gid.y * nwg.x * WG;
  if (nl >= blk.rows) {
    return;
  }
  let n = blk.row0 + nl;
  var c = 0u;
  if ((rowflags[n] & 2u) != 0u && sel[BTK_EMPTY] == 0u) {
    let vs = sel[BTK_PREFIX];
    for (var i = 0u; i < p.m; i++) {
      let v = pre[nl * p.m + i];
      if (v > 0.0 && btk_key(v) == vs) {
        c++;
      }
    }
  }
  row_ties[n] = c;
}
