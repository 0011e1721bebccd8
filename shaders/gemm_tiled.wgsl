// C = A·B (+ C) (+ bias per column) with shared-memory tiles, for real GPUs (PERF-NOTES: 64×64 tiles,
// k-slabs of 16, 256 invocations each holding a 4×4 register block). Same strided operand convention and
// Gemm uniform as gemm_blocked.wgsl, so the trainer swaps designs without touching bindings.
// CPU twin: gemmTwin in src/sae/twins/gemm.ts.

// The Gemm struct: shaders/gemm_common.wgsl, put in front of this file by src/gpu/gemm.ts.
@group(0) @binding(0) var<uniform> g: Gemm;                      // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<f32>;          // left operand
@group(0) @binding(2) var<storage, read> B: array<f32>;          // right operand
@group(0) @binding(3) var<storage, read_write> C: array<f32>;    // result M×N
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [N] column bias (read when flags bit 1)

/** k-slab depth of a tile; 8 or 16 suit most GPUs. */
override TILE_K: u32 = 16u;
const TILE = 64u; // rows and columns of a C tile: 16×16 invocations × 4×4 outputs
const WG = 16u;
// Row pitch of the slabs in workgroup memory: one more than TILE so that stores with k fastest (the
// coalesced order when an operand is contiguous along k) fall into distinct banks.
const PITCH = 65u;

var<workgroup> As: array<f32, TILE_K * PITCH>; // [TILE_K][PITCH] slab of A (rows of C)
var<workgroup> Bs: array<f32, TILE_K * PITCH>; // [TILE_K][PITCH] slab of B (columns of C)

/** Element e of a TILE_K×TILE slab as (k, t), with k fastest when the operand is contiguous along k, so
 * neighbouring invocations read neighbouring addresses (coalesced) in every layout. */
fn slab_pos(e: u32, kFastest: bool) -> vec2<u32> {
  if (kFastest) {
    return vec2<u32>(e % TILE_K, e / TILE_K);
  }
  return vec2<u32>(e / TILE, e % TILE);
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tileRow = wid.y * TILE;
  let tileCol = wid.x * TILE;
  var acc: array<vec4<f32>, 4>; // acc[c][r]: column lid.x*4+c, row lid.y*4+r
  for (var k0 = 0u; k0 < g.K; k0 += TILE_K) {
    // Cooperative loads: TILE_K·TILE elements of each operand, 256 invocations.
    for (var e = li; e < TILE_K * TILE; e += WG * WG) {
      let pa = slab_pos(e, g.sAk == 1u);
      let ka = k0 + pa.x;
      let i = tileRow + pa.y;
      var a = 0.0;
      if (ka < g.K && i < g.M) {
        a = A[g.offA + i * g.sAm + ka * g.sAk];
      }
      As[pa.x * PITCH + pa.y] = a;
      let pb = slab_pos(e, g.sBk == 1u);
      let kb = k0 + pb.x;
      let j = tileCol + pb.y;
      var b = 0.0;
      if (kb < g.K && j < g.N) {
        b = B[g.offB + kb * g.sBk + j * g.sBn];
      }
      Bs[pb.x * PITCH + pb.y] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let a = vec4<f32>(
        As[kk * PITCH + lid.y * 4u],
        As[kk * PITCH + lid.y * 4u + 1u],
        As[kk * PITCH + lid.y * 4u + 2u],
        As[kk * PITCH + lid.y * 4u + 3u],
      );
      for (var c = 0u; c < 4u; c++) {
        acc[c] += a * Bs[kk * PITCH + lid.x * 4u + c];
      }
    }
    workgroupBarrier();
  }
  let accumulate = (g.flags & 1u) != 0u;
  let addBias = (g.flags & 2u) != 0u;
  for (var c = 0u; c < 4u; c++) {
    let j = tileCol + lid.x * 4u + c;
    if (j >= g.N) {
      continue;
    }
    var b = 0.0;
    if (addBias) {
      b = bias[g.offBias + j];
    }
    for (var r = 0u; r < 4u; r++) {
      let i = tileRow + lid.y * 4u + r;
      if (i < g.M) {
        let idx = g.offC + i * g.ldc + j;
        var v = acc[c][r] + b;
        if (accumulate) {
          v += C[idx];
        }
        C[idx] = v;
      }
    }
  }
}
