// CPU twins of the element-wise kernels, in float64: shaders/lm_gelu.wgsl, lm_swiglu.wgsl, lm_add.wgsl.

type Vec = ArrayLike<number>;

/** gelu_new(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), element-wise. */
export function geluNewTwin(x: Vec): Float64Array {
  return Float64Array.from(
    x,
    (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  );
}

/** silu(gate)·up = gate/(1 + e^(−gate))·up, element-wise. */
export function swigluTwin(gate: Vec, up: Vec): Float64Array {
  return Float64Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]);
}

/** x + y, element-wise (the residual add). */
export function addTwin(x: Vec, y: Vec): Float64Array {
  return Float64Array.from(x, (v, i) => v + y[i]);
}
