// Floating-point work of one SAE training step, counted the way GEMM benchmarks count it: 2 FLOP per
// multiply-add, GEMMs only. With N tokens, width d and d_sae = m, a step is five GEMMs (PERF-NOTES.md;
// the input gradient ∂L/∂x is never needed):
//   1. encoder        pre     = (x − b_dec)·W_enc        [N,d]·[d,m]   2·N·d·m
//   2. decoder        x̂       = f·W_dec                  [N,m]·[m,d]   2·N·m·d
//   3. decoder grad   ∂W_dec  = fᵀ·g_x̂                  [m,N]·[N,d]   2·N·m·d
//   4. feature grad   ∂f      = g_x̂·W_decᵀ              [N,d]·[d,m]   2·N·d·m
//   5. encoder grad   ∂W_enc  = (x − b_dec)ᵀ·g_pre      [d,N]·[N,m]   2·N·d·m
// Element-wise passes (bias, ReLU, L1/temporal terms, Adam) are O(N·m + d·m) and are not counted:
// at d ≥ 64 they are under 2 % of the GEMM work, and counting them would flatter slow engines.

export const GEMMS_PER_STEP = 5;

/** FLOP of one training step's five GEMMs: 5 × 2·N·d·m. */
export function stepFlops(d: number, d_sae: number, tokens: number): number {
  return GEMMS_PER_STEP * 2 * tokens * d * d_sae;
}

/** GFLOP/s achieved by a step that took `msPerStep` milliseconds. */
export function gflopsPerSecond(d: number, d_sae: number, tokens: number, msPerStep: number): number {
  return stepFlops(d, d_sae, tokens) / 1e9 / (msPerStep / 1000);
}
