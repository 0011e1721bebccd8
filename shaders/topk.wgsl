// TopK activation (SPEC §3): f = pre where pre is among the k largest of its row and pre > 0, else 0.
// Ties at the k-th value are broken by the lower feature index (the reference does the same).
// One workgroup per row: the 8-bit radix select of shaders/lib_select.wgsl over order-preserving keys
// finds the k-th largest key exactly, for any k and any d_sae, in workgroup memory. Only positive values
// can be active, so the key of a value ≤ 0 is 0 and the key of a positive float is its bit pattern
// (monotonic for positive floats). The select stops early once the bin holding the k-th key holds exactly
// the keys still needed (measured on SwiftShader, d_sae 512, k 32: most rows finish after 2 of the 4
// rounds). Padding rows get f = 0. CPU twin: topkTwin.

@group(0) @binding(0) var<uniform> p: Params;                  // sizes and k
@group(0) @binding(1) var<storage, read> pre: array<f32>;      // [rows, m] pre-activations of the row block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>; // [N] bit 0 start, bit 1 valid
@group(0) @binding(3) var<storage, read_write> f: array<f32>;  // [rows, m] features of the row block
@group(0) @binding(4) var<uniform> blk: Block; // the row block this dispatch covers (pre/f hold only its rows)

// Invocations per workgroup: 256 on real GPUs; the trainer picks 4 on SwiftShader, where every invocation
// is a CPU lane that pays at each barrier (measured in src/sae/gpu/passes/context.ts, selectWg).
override WG: u32 = 256u;

fn key_of(v: f32) -> u32 {
  return select(0u, bitcast<u32>(v), v > 0.0);
}

// Hooks of the radix select (shaders/lib_select.wgsl): every feature is a candidate.
fn select_candidate(i: u32) -> bool {
  return true;
}

fn select_key(row_base: u32, i: u32) -> u32 {
  return key_of(pre[row_base + i]);
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
  var sel = radix_select(li, base, p.m, p.k);
  for (var i = sel.lo; i < sel.hi; i++) {
    let v = pre[base + i];
    let key = key_of(v);
    // A key of 0 (v ≤ 0) is never on: with fewer than k positive values every positive one is on.
    f[base + i] = select(0.0, v, selected(&sel, key) && key > 0u);
  }
}
