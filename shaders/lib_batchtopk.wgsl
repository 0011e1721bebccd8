// BatchTopK select state (shaders/batchtopk_*.wgsl): the u32 words of the trainer's `btk_sel` buffer
// (src/sae/gpu/bufferSpecs.ts). withSaeStructs (src/sae/gpu/wgsl.ts) puts this file in front of a
// kernel that uses a BTK_ word or btk_key. No bindings here.
const BTK_PREFIX = 0u;    // key bits decided so far (after round 4: the key v* of the K-th entry)
const BTK_MASK = 1u;      // which bits are decided
const BTK_REMAIN = 2u;    // entries still to take at the prefix (after round 4: ties at v* to take)
const BTK_ROUND = 3u;     // radix round 0..4 (4: done)
const BTK_CUT_ROW = 4u;   // the last batch row that takes a tie at v*
const BTK_CUT_COL = 5u;   // … and its last column taking one
const BTK_TAKE = 6u;      // min(K, positive entries): how many are selected
const BTK_EMPTY = 7u;     // 1 when nothing is selected
const BTK_WORDS = 8u;

// Index of the inference threshold θ in the trainer's f32 `state` buffer (STATE.topk_threshold in
// src/sae/gpu/layout.ts).
const STATE_TOPK_THRESHOLD = 6u;

// Positive floats order like their bit patterns.
fn btk_key(v: f32) -> u32 {
  return bitcast<u32>(v);
}

// K = k·N_valid: how many entries the batch keeps (k per valid token on average).
fn btk_budget(k: u32, n_valid: f32) -> u32 {
  return k * u32(n_valid);
}
