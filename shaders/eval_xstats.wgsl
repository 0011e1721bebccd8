// Held-out evaluation: per input dimension j, over the valid rows of the batch (SPEC §6 explained
// variance needs Σ‖x − x̄‖² over the whole held-out set; ReconAccumulator merges batches with Chan et
// al.'s update, which needs each batch's mean and its sum of squared deviations from it):
//   xstats[2j] = Σ_n x_nj,   xstats[2j + 1] = Σ_n (x_nj − mean_j)²     (two passes: no cancellation)
// One invocation per dimension (d is small next to N·m; this pass is cheap). CPU twin: evalSumsFromChunk.
@group(0) @binding(0) var<uniform> p: Params;                          // N, d
@group(0) @binding(1) var<storage, read> x: array<f32>;                // [N, d] input
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;         // [N] bit 1 valid
@group(0) @binding(3) var<storage, read_write> xstats: array<f32>;     // [d, 2] the sums above

// Invocations per workgroup.
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.d) {
    return;
  }
  var s = 0.0;
  var cnt = 0.0;
  for (var n = 0u; n < p.N; n++) {
    if ((rowflags[n] & 2u) != 0u) {
      s += x[n * p.d + j];
      cnt += 1.0;
    }
  }
  let mean = select(0.0, s / cnt, cnt > 0.0);
  var m2 = 0.0;
  for (var n = 0u; n < p.N; n++) {
    if ((rowflags[n] & 2u) != 0u) {
      let e = x[n * p.d + j] - mean;
      m2 += e * e;
    }
  }
  xstats[2u * j] = s;
  xstats[2u * j + 1u] = m2;
}
