// CPU twin of shaders/lm_attention.wgsl: causal softmax attention with grouped-query heads over S
// independent sequences of T tokens, in float64, the plain way (all scores, then a max-subtracted
// softmax) where the kernel walks the keys once with an online softmax. The float64 reference forward's
// own attention is exactly this maths in the kernel's layout (q [S·T, nHeads·headDim], k and v
// [S·T, nKv·headDim], heads contiguous), so it serves as the twin rather than a second copy.
export { causalAttention as attentionTwin } from '../reference/forward';
