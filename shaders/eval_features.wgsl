// Held-out evaluation, per-feature sums (SPEC §6): one invocation per feature i walks the rows of a row
// block in sequence order and forms what SparsityAccumulator.add and TemporalAccumulator.add
// (src/analysis/sparsity.ts, temporal.ts) keep per feature, so O(m·(P + 5Q) + T) values come back
// instead of f [rows, m]:
//   feat_stats[2i], [2i + 1]   Σ f_i, Σ f_i² over valid rows (for the variance that picks clustered features)
//   fire_pos[i·P + bin(t)]     tokens where f_i > 0, by position bin (their sum is the firing count)
//   runs[t], runs[T + t]       maximal runs of consecutive valid pairs where a feature is active that start
//                              at position t, and the sum of their lengths (a document start, padding or
//                              the end of a row ends a run; every feature adds in, hence the atomics)
//   ac[(k·Q + q)·m + i]        lag-1 sums over the valid pairs (f'_i, f_i) ending in autocorrelation bin q:
//                              k = 0 Σf', 1 Σf, 2 Σf'², 3 Σf², 4 Σf'·f
// A valid pair (n − 1, n): t > 0, both rows valid, n not a document start (isValidPair, chunk.ts).
// Every output is cleared before the first row block and added to by each block (whole sequences each),
// so runs never cross blocks. f32 sums of at most `rows` terms per block; counts are exact u32.
// CPU twin: evalSumsFromChunk (src/analysis/evalPartials.ts).
@group(0) @binding(0) var<uniform> p: Params;                            // T, m
@group(0) @binding(1) var<storage, read> f: array<f32>;                  // [rows, m] features of the row block
@group(0) @binding(2) var<storage, read> rowflags: array<u32>;           // [N] bit 0 start, bit 1 valid
@group(0) @binding(3) var<uniform> blk: Block;                           // the row block (whole sequences)
@group(0) @binding(4) var<storage, read_write> feat_stats: array<f32>;   // [m, 2] Σf, Σf²
@group(0) @binding(5) var<storage, read_write> fire_pos: array<u32>;     // [m, P] firing counts by position bin
@group(0) @binding(6) var<storage, read_write> runs: array<atomic<u32>>; // [2, T] run starts, run lengths by start
@group(0) @binding(7) var<storage, read_write> ac: array<f32>;           // [5, Q, m] autocorrelation sums

// Position bins of fire_pos: positionBins(m, T) in src/analysis/sparsity.ts.
override P: u32 = 1u;
// Autocorrelation bins: autocorrBins(m, T) in src/analysis/temporal.ts.
override Q: u32 = 1u;
// Invocations per workgroup.
override WG: u32 = 64u;

/** Autocorrelation bin of the pair ending at position t ≥ 1 (TemporalAccumulator.binOf). */
fn binOf(t: u32) -> u32 {
  if (p.T <= 1u) {
    return 0u;
  }
  return min(Q - 1u, ((t - 1u) * Q) / (p.T - 1u));
}

fn closeRun(start: u32, len: u32) {
  atomicAdd(&runs[start], 1u);
  atomicAdd(&runs[p.T + start], len);
}

fn flushBin(q: u32, i: u32, s: array<f32, 5>) {
  for (var k = 0u; k < 5u; k++) {
    let at = (k * Q + q) * p.m + i;
    ac[at] = ac[at] + s[k];
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.m) {
    return;
  }
  var s1 = 0.0;
  var s2 = 0.0;
  var open = false;
  var runStart = 0u;
  var runLen = 0u;
  var cq = 0u;
  var acc = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
  // Carried from row to row (blocks start at t = 0): the next row's position, whether the previous row
  // was valid, and its f_i (no modulo and no second read of f per row).
  var tNext = 0u;
  var prevValid = false;
  var prevV = 0.0;
  for (var r = 0u; r < blk.rows; r++) {
    let fl = rowflags[blk.row0 + r];
    let valid = (fl & 2u) != 0u;
    let t = tNext;
    tNext = select(t + 1u, 0u, t + 1u == p.T);
    let pv = prevValid;
    prevValid = valid;
    if (!valid) {
      continue;
    }
    let v = f[r * p.m + i];
    let u = prevV;
    prevV = v;
    let on = v > 0.0;
    s1 += v;
    s2 += v * v;
    if (on) {
      let b = i * P + (t * P) / p.T;
      fire_pos[b] = fire_pos[b] + 1u;
    }
    let pair = t > 0u && pv && (fl & 1u) == 0u;
    if (!pair) {
      if (open) {
        closeRun(runStart, runLen);
      }
      open = on;
      runStart = t;
      runLen = 1u;
      continue;
    }
    let uOn = u > 0.0;
    if (uOn && on) {
      runLen += 1u;
    } else if (on) {
      open = true;
      runStart = t;
      runLen = 1u;
    } else if (uOn) {
      closeRun(runStart, runLen);
      open = false;
    }
    let q = binOf(t);
    if (q != cq) {
      flushBin(cq, i, acc);
      acc = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
      cq = q;
    }
    acc[0] += u;
    acc[1] += v;
    acc[2] += u * u;
    acc[3] += v * v;
    acc[4] += u * v;
  }
  if (open) {
    closeRun(runStart, runLen);
  }
  flushBin(cq, i, acc);
  feat_stats[2u * i] = feat_stats[2u * i] + s1;
  feat_stats[2u * i + 1u] = feat_stats[2u * i + 1u] + s2;
}
