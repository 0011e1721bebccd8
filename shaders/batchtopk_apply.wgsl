// BatchTopK selection, the features (one invocation per entry (n, i) of the row block):
//   f_ni = pre_ni if row n is valid, pre_ni > 0 and (key > v*, or key = v* and (n, i) is at or before
//          the tie cut (BTK_CUT_ROW, BTK_CUT_COL) in flat order); else 0.  Nothing when BTK_EMPTY.
// Exactly min(k·N_valid, #positive) entries of the batch are kept. Select-state words:
// shaders/lib_batchtopk.wgsl. CPU twin: batchTopkTwin (src/sae/twins/batchTopk.ts).
@group(0) @binding(0) var<uniform> p: Params;                   // m
@group(0) @binding(1) var<storage, read> pre: array<f32>;       // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;  // [N] bit 1 valid
@group(0) @binding(3) var<storage, read> sel: array<u32>;       // [8] select state
@group(0) @binding(4) var<storage, read_write> f: array<f32>;   // [rows, m] features of the block
@group(0) @binding(5) var<uniform> blk: Block;                  // the row block this dispatch covers

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= blk.rows * p.m) {
    return;
  }
  let n = blk.row0 + k / p.m;
  let i = k % p.m;
  let v = pre[k];
  var on = (rowflags[n] & 2u) != 0u && v > 0.0 && sel[BTK_EMPTY] == 0u;
  if (on) {
    let key = btk_key(v);
    let vs = sel[BTK_PREFIX];
    let cr = sel[BTK_CUT_ROW];
    on = key > vs || (key == vs && (n < cr || (n == cr && i <= sel[BTK_CUT_COL])));
  }
  f[k] = select(0.0, v, on);
}
