// Loss recovered (SPEC §10), one vocabulary chunk: per token n, fold the chunk's clean logits z_c and new
// (SAE-spliced or ablated) logits z_n into a running state, so that [tokens × vocabulary] never exists.
// State per token (8 f32):
//   .0 m_c  max of z_c so far        .1 s_c  Σ exp(z_c − m_c)
//   .2 m_n  max of z_n so far        .3 s_n  Σ exp(z_n − m_n)
//   .4 a    Σ exp(z_c − m_c)·(z_c − z_n)
//   .5 z_c[target]   .6 z_n[target]  (written by the chunk that holds the target)   .7 unused
// The host finishes (src/lm/twins/ceKl.ts ceKlFinish): lse = m + log s,
//   CE_clean = lse_c − z_c[target],  CE_new = lse_n − z_n[target],
//   KL(p_c ‖ p_n) = Σ p_c·(z_c − z_n) + lse_n − lse_c = a/s_c + lse_n − lse_c.
// Why one pass: KL needs p_c, which needs the clean normaliser lse_c over the whole vocabulary. Instead
// of a first pass for lse_c and a second for Σ p_c·(log p_c − log p_n), a is kept relative to the
// running clean max and rescaled with s_c whenever the max grows (the online-softmax merge), so every
// chunk is read once, with its clean and new logits side by side. Merging (m₁, s₁, a₁) and (m₂, s₂, a₂):
//   m = max(m₁, m₂),  s = s₁·e^(m₁−m) + s₂·e^(m₂−m),  a = a₁·e^(m₁−m) + a₂·e^(m₂−m)  (clean factors).
// Each lane folds a strided part of the row online (one exp per logit and stream), the lanes merge in
// a tree, and lane 0 merges the result into the state; a chunk with v0 = 0 starts the state afresh.
// When z_n = z_c bit for bit (an identity SAE), the clean and new streams do the same arithmetic, so
// a = 0 and lse_n = lse_c exactly: KL = 0 and CE_new = CE_clean, not merely close.
// CPU twin: ceKlChunkTwin (src/lm/twins/ceKl.ts). Host: CeKlKernel (src/lm/gpu/lossRecovered.ts).

struct CeKlChunk {
  rows: u32,  // tokens N
  cols: u32,  // vocabulary columns in this chunk
  ld: u32,    // row stride of zc and zn, elements (≥ cols)
  v0: u32,    // vocabulary index of column 0; 0 starts every token's state afresh
  off_c: u32, // element offset of row 0 in zc
  off_n: u32, // element offset of row 0 in zn
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: CeKlChunk;
@group(0) @binding(1) var<storage, read> zc: array<f32>;              // [N, ld] clean logits of the chunk
@group(0) @binding(2) var<storage, read> zn: array<f32>;              // [N, ld] new logits of the chunk
@group(0) @binding(3) var<storage, read> targets: array<u32>;         // [N] next token, 0xffffffff for none
@group(0) @binding(4) var<storage, read_write> state: array<f32>;     // [N, 8] the running state above

// Invocations per row and rows per workgroup: 256 × 1 on real GPUs (a row of a chunk is thousands of
// logits); 1 × 64 on SwiftShader, whose cost is per workgroup and per barrier (as eval_recon.wgsl).
override WG: u32 = 256u;
override ROWS: u32 = 1u;

// WGSL has no infinity literal: −FLT_MAX, whose exp(−FLT_MAX − m) is 0 for every finite m.
const NEG_BIG: f32 = -3.4028234e38;

struct Acc {
  mc: f32,
  sc: f32,
  mn: f32,
  sn: f32,
  a: f32,
}

var<workgroup> red: array<Acc, WG * ROWS>;

fn merge(x: Acc, y: Acc) -> Acc {
  let mc = max(x.mc, y.mc);
  let rx = exp(x.mc - mc);
  let ry = exp(y.mc - mc);
  let mn = max(x.mn, y.mn);
  return Acc(mc, x.sc * rx + y.sc * ry, mn, x.sn * exp(x.mn - mn) + y.sn * exp(y.mn - mn), x.a * rx + y.a * ry);
}

@compute @workgroup_size(WG, ROWS)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  // li: lane within the row; slot: the row's first cell of `red`. Rows past N do no work but reach
  // every barrier (barriers need uniform control flow).
  let li = lid.x;
  let slot = lid.y * WG;
  let n = (wid.x + wid.y * nwg.x) * ROWS + lid.y;
  var acc = Acc(NEG_BIG, 0.0, NEG_BIG, 0.0, 0.0);
  if (n < p.rows) {
    let bc = p.off_c + n * p.ld;
    let bn = p.off_n + n * p.ld;
    for (var j = li; j < p.cols; j += WG) {
      let x = zc[bc + j];
      let y = zn[bn + j];
      if (x > acc.mc) {
        let r = exp(acc.mc - x);
        acc.sc = acc.sc * r + 1.0;
        acc.a = acc.a * r + (x - y);
        acc.mc = x;
      } else {
        let e = exp(x - acc.mc);
        acc.sc += e;
        acc.a += e * (x - y);
      }
      if (y > acc.mn) {
        acc.sn = acc.sn * exp(acc.mn - y) + 1.0;
        acc.mn = y;
      } else {
        acc.sn += exp(y - acc.mn);
      }
    }
  }
  red[slot + li] = acc;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red[slot + li] = merge(red[slot + li], red[slot + li + w]);
    }
    workgroupBarrier();
  }
  if (li == 0u && n < p.rows) {
    let o = n * 8u;
    var s = red[slot];
    if (p.v0 != 0u) {
      s = merge(Acc(state[o], state[o + 1u], state[o + 2u], state[o + 3u], state[o + 4u]), s);
    } else {
      state[o + 5u] = 0.0;
      state[o + 6u] = 0.0;
      state[o + 7u] = 0.0;
    }
    state[o] = s.mc;
    state[o + 1u] = s.sc;
    state[o + 2u] = s.mn;
    state[o + 3u] = s.sn;
    state[o + 4u] = s.a;
    let t = targets[n];
    if (t != 0xffffffffu && t >= p.v0 && t < p.v0 + p.cols) {
      state[o + 5u] = zc[p.off_c + n * p.ld + (t - p.v0)];
      state[o + 6u] = zn[p.off_n + n * p.ld + (t - p.v0)];
    }
  }
}
