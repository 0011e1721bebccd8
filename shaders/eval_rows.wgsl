// Held-out evaluation, per-token feature sums (SPEC §6): for row n of a row block, the sums over the m
// features that SparsityAccumulator.add and TemporalAccumulator.add (src/analysis/sparsity.ts,
// temporal.ts) form per token, so [rows, 6] come back instead of f [rows, m]:
//   .0 L0 = #{i : f_i > 0}        .1 L1 = Σ_i |f_i|
//   and against the previous row n − 1 of the same sequence (t > 0; zeros at t = 0):
//   .2 Σ_i |f_i − f'_i|   .3 Σ_i |f_i|   .4 |A ∩ A'|   .5 |A ∪ A'|     (A = {i : f_i > 0})
// Whether (n − 1, n) is a valid pair (padding, document starts) is decided on the host from the row
// flags (isValidPair); flips = |A ∪ A'| − |A ∩ A'|. Counts are exact in f32 (m < 2^24).
// WG invocations per row, ROWS rows per workgroup. CPU twin: evalSumsFromChunk (src/analysis/evalPartials.ts).
@group(0) @binding(0) var<uniform> p: Params;                           // T, m
@group(0) @binding(1) var<storage, read> f: array<f32>;                 // [rows, m] features of the row block
@group(0) @binding(2) var<storage, read_write> row_feat: array<f32>;    // [N, 6] the sums above (batch rows)
@group(0) @binding(3) var<uniform> blk: Block;                          // the row block (whole sequences)

// Invocations per row (they reduce it together) and rows per workgroup: 256 × 1 on real GPUs; 1 × 64
// on SwiftShader, whose cost is per workgroup and per barrier (64 rows a workgroup, no cross-lane
// reduction; one workgroup per row made these passes ~5× slower there).
override WG: u32 = 256u;
override ROWS: u32 = 1u;
var<workgroup> red_a: array<vec4<f32>, WG * ROWS>;
var<workgroup> red_b: array<vec2<f32>, WG * ROWS>;

@compute @workgroup_size(WG, ROWS)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  // li: this invocation's lane within its row; slot: its row's first cell of the shared arrays. Rows
  // past the block do no work but still reach every barrier (barriers need uniform control flow).
  let li = lid.x;
  let slot = lid.y * WG;
  let r = (wid.x + wid.y * nwg.x) * ROWS + lid.y;
  let n = blk.row0 + r;
  var a = vec4<f32>(0.0); // L0, L1, Σ|Δ|, Σ|f|
  var b = vec2<f32>(0.0); // ∩, ∪
  if (r < blk.rows) {
    // Row blocks hold whole sequences, so the previous position is in this block too.
    let hasPrev = (n % p.T) != 0u;
    let o = r * p.m;
    for (var i = li; i < p.m; i += WG) {
      let v = f[o + i];
      let on = v > 0.0;
      a.x += select(0.0, 1.0, on);
      a.y += abs(v);
      if (hasPrev) {
        let u = f[o - p.m + i];
        let uOn = u > 0.0;
        a.z += abs(v - u);
        a.w += abs(v);
        b += vec2<f32>(select(0.0, 1.0, on && uOn), select(0.0, 1.0, on || uOn));
      }
    }
  }
  red_a[slot + li] = a;
  red_b[slot + li] = b;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red_a[slot + li] += red_a[slot + li + w];
      red_b[slot + li] += red_b[slot + li + w];
    }
    workgroupBarrier();
  }
  if (li == 0u && r < blk.rows) {
    let s = red_a[slot];
    let q = n * 6u;
    row_feat[q] = s.x;
    row_feat[q + 1u] = s.y;
    row_feat[q + 2u] = s.z;
    row_feat[q + 3u] = s.w;
    row_feat[q + 4u] = red_b[slot].x;
    row_feat[q + 5u] = red_b[slot].y;
  }
}
