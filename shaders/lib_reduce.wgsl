// Library (not a kernel): workgroup tree sums for the one-workgroup-per-row kernels. withSaeStructs
// (src/sae/gpu/wgsl.ts) puts this file in front of a kernel whose code calls tree_sum_*.
//   tree_sum_T(li, v) = Σ over the workgroup's invocations of v, returned to every invocation.
// The kernel declares WG (an override or const: invocations per workgroup, a power of two). Each
// function has its own workgroup scratch; only the scratch of a function a kernel calls is allocated.
// Call from uniform control flow with every invocation of the workgroup. The result is read from the
// scratch after the last barrier, so a second call to the same function needs a workgroupBarrier()
// before it (the kernels here call one once). Adds in the same order as the loops it replaced: the sum
// is bit-identical. CPU twins: the kernels' own (a plain sum; f32 rounding differs by order only).

var<workgroup> tree_f32: array<f32, WG>;
var<workgroup> tree_vec2: array<vec2<f32>, WG>;
var<workgroup> tree_vec3: array<vec3<f32>, WG>;

fn tree_sum_f32(li: u32, v: f32) -> f32 {
  tree_f32[li] = v;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      tree_f32[li] += tree_f32[li + w];
    }
    workgroupBarrier();
  }
  return tree_f32[0];
}

fn tree_sum_vec2(li: u32, v: vec2<f32>) -> vec2<f32> {
  tree_vec2[li] = v;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      tree_vec2[li] += tree_vec2[li + w];
    }
    workgroupBarrier();
  }
  return tree_vec2[0];
}

fn tree_sum_vec3(li: u32, v: vec3<f32>) -> vec3<f32> {
  tree_vec3[li] = v;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      tree_vec3[li] += tree_vec3[li + w];
    }
    workgroupBarrier();
  }
  return tree_vec3[0];
}
