// TopK AuxK selection (Gao et al. 2024, "Scaling and evaluating sparse autoencoders", §A.2; scaling as
// SAELens TopKTrainingSAE.calculate_topk_aux_loss). One workgroup per row:
//   dead_i   = tokens_since_fired_i ≥ dead_feature_window (counters BEFORE this step's update)
//   num_dead = Σ_i dead_i;  k_aux = min(aux_k, num_dead);  scale = min(num_dead / aux_k, 1)
//   A_n      = the k_aux largest pre_ni over dead i (ties to the lower index), valid rows only
//   f_aux_ni = pre_ni for i ∈ A_n (raw, may be negative), else 0
// The radix select of shaders/lib_select.wgsl (as topk.wgsl) over the dead features and all floats: the key of v maps the float order onto u32 order
// (positive: set the sign bit; negative: invert every bit). Workgroup 0 writes scale and num_dead to
// state[4..5]. Like topk.wgsl, the select stops early once the bin holding the k_aux-th key holds exactly
// the keys still needed. CPU twin: referenceAuxk in src/sae/reference/auxk.ts.

@group(0) @binding(0) var<uniform> p: Params;                          // sizes, aux_k, dead window
@group(0) @binding(1) var<storage, read> pre: array<f32>;              // [rows, m] pre-activations of the row block
@group(0) @binding(2) var<storage, read> tokens_since_fired: array<f32>; // [m] before this step
@group(0) @binding(3) var<storage, read> rowflags: array<u32>;         // [N] bit 1 valid
@group(0) @binding(4) var<storage, read_write> f_aux: array<f32>;      // [rows, m] chosen dead pre, else 0
@group(0) @binding(5) var<storage, read_write> state: array<f32>;      // [4] scale, [5] num_dead
@group(0) @binding(6) var<uniform> blk: Block; // the row block this dispatch covers (pre/f_aux hold only its rows)

// Invocations per workgroup: 256 on real GPUs, 4 on SwiftShader (see topk.wgsl).
override WG: u32 = 256u;
var<workgroup> dead_atomic: atomic<u32>;
var<workgroup> dead_total: u32;

fn key_of(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn is_dead(i: u32) -> bool {
  return tokens_since_fired[i] >= p.dead_window;
}

// Hooks of the radix select (shaders/lib_select.wgsl): the dead features are the candidates.
fn select_candidate(i: u32) -> bool {
  return is_dead(i);
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
    return;
  }
  let base = n * p.m;
  if (li == 0u) {
    atomicStore(&dead_atomic, 0u);
  }
  workgroupBarrier();
  var mine = 0u;
  for (var i = li; i < p.m; i += WG) {
    if (is_dead(i)) {
      mine++;
    }
  }
  atomicAdd(&dead_atomic, mine);
  workgroupBarrier();
  if (li == 0u) {
    dead_total = atomicLoad(&dead_atomic);
  }
  let num_dead = workgroupUniformLoad(&dead_total);
  let k_aux = min(p.aux_k, num_dead);
  if (blk.row0 + n == 0u && li == 0u) {
    state[4] = select(0.0, min(f32(num_dead) / f32(p.aux_k), 1.0), num_dead > 0u && p.aux_k > 0u);
    state[5] = f32(num_dead);
  }
  if (k_aux == 0u || (rowflags[blk.row0 + n] & 2u) == 0u) {
    for (var i = li; i < p.m; i += WG) {
      f_aux[base + i] = 0.0;
    }
    return;
  }
  var sel = radix_select(li, base, p.m, k_aux);
  for (var i = sel.lo; i < sel.hi; i++) {
    let v = pre[base + i];
    let on = is_dead(i) && selected(&sel, key_of(v));
    f_aux[base + i] = select(0.0, v, on);
  }
}
