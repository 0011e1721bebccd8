// C = A·B (+ C) (+ bias per column) with shared-memory tiles, for real GPUs (PERF-NOTES: 64×64 tiles,
// k-slabs of 16, 256 invocations each holding a 4×4 register block). Same strided operand convention and
// Gemm uniform as gemm_blocked.wgsl, so the trainer swaps designs without touching bindings.
// CPU twin: gemmTwin in src/sae/twins/gemm.ts.

struct Gemm {
  M: u32,     // rows of C
  N: u32,     // columns of C
  K: u32,     // reduction length
  flags: u32, // bit 0: add the existing C (accumulate); bit 1: add bias[j]
  sAm: u32,   // stride of A between rows of C
  sAk: u32,   // stride of A along k
  sBk: u32,   // stride of B along k
  sBn: u32,   // stride of B between columns of C
  offA: u32,  // element offsets into the bound buffers
  offB: u32,
  offC: u32,
  ldc: u32,   // row stride of C
  offBias: u32, // element offset into bias (column j reads bias[offBias + j])
  _g0: u32,
  _g1: u32,
  _g2: u32,
}

@group(0) @binding(0) var<uniform> g: Gemm;                      // sizes, strides, flags
@group(0) @binding(1) var<storage, read> A: array<f32>;          // left operand
@group(0) @binding(2) var<storage, read> B: array<f32>;          // right operand
@group(0) @binding(3) var<storage, read_write> C: array<f32>;    // result M×N
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [N] column bias (read when flags bit 1)

/** k-slab depth of a tile; 8 or 16 suit most GPUs. */
override TILE_K: u32 = 16u;
const TILE = 64u; // rows and columns of a C tile: 16×16 invocations × 4×4 outputs
const WG = 16u;

var<workgroup> As: array<f32, TILE_K * TILE>; // [TILE_K][TILE] slab of A (rows of C)
var<workgroup> Bs: array<f32, TILE_K * TILE>; // [TILE_K][TILE] slab of B (columns of C)

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
      let kk = e / TILE;
      let t = e % TILE;
      let k = k0 + kk;
      let i = tileRow + t;
      let j = tileCol + t;
      var a = 0.0;
      if (k < g.K && i < g.M) {
        a = A[g.offA + i * g.sAm + k * g.sAk];
      }
      var b = 0.0;
      if (k < g.K && j < g.N) {
        b = B[g.offB + k * g.sBk + j * g.sBn];
      }
      As[kk * TILE + t] = a;
      Bs[kk * TILE + t] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let a = vec4<f32>(
        As[kk * TILE + lid.y * 4u],
        As[kk * TILE + lid.y * 4u + 1u],
        As[kk * TILE + lid.y * 4u + 2u],
        As[kk * TILE + lid.y * 4u + 3u],
      );
      for (var c = 0u; c < 4u; c++) {
        acc[c] += a * Bs[kk * TILE + lid.x * 4u + c];
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
