// CPU twin of shaders/gemm_blocked.wgsl and gemm_tiled.wgsl: the same strided product in float64.
import { gemmUniform, type GemmShape } from '../../gpu/gemm';

export function gemmTwin(
  shape: GemmShape,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  C: ArrayLike<number> | null,
  bias?: ArrayLike<number>,
): Float64Array {
  const [M, N, K, flags, sAm, sAk, sBk, sBn, offA, offB, offC, ldc, offBias] = gemmUniform(shape, !!bias);
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += A[offA + i * sAm + k * sAk] * B[offB + k * sBk + j * sBn];
      if (flags & 2) acc += bias![offBias + j];
      if (flags & 1) acc += C![offC + i * ldc + j];
      out[i * N + j] = acc;
    }
  return out;
}
