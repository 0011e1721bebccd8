// f16 weights (SPEC §9: "f16 weights where the adapter allows"): every weight matrix (projections,
// embedding, unembedding) stored as IEEE halves, two to a u32, decoded where it is read
// (shaders/lm_gemm_f16w.wgsl, lm_embed_f16.wgsl). Halves the weight memory; W_pos, norms, biases,
// activations and the arithmetic stay f32.
import { f32ToF16Bits } from '../../data/npyWrite';
import { f16ToF32 } from '../../data/halfFloat';

/** A [rows, cols] f32 matrix as halves, each row padded to an even count so rows start on a word. */
export function packF16Rows(W: Float32Array, rows: number, cols: number): { words: Uint32Array; ld: number } {
  const ld = cols + (cols & 1);
  const halves = new Uint16Array(rows * ld);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) halves[r * ld + c] = f32ToF16Bits(W[r * cols + c]);
  return { words: new Uint32Array(halves.buffer), ld };
}

/** Every element rounded to the nearest half (what the f16 path computes with), as f32. */
export function roundToF16(W: Float32Array): Float32Array {
  return Float32Array.from(W, (v) => f16ToF32(f32ToF16Bits(v)));
}
