// Forward stage 1 and 3 of the SAE step (SPEC §3):
//   center   xc = x − b_dec                                       shaders/center.wgsl
//   encoder  pre = xc·W_enc + b_enc   (NN GEMM per row and feature block, into pre's [rows, m] blocks)
//   decoder  x̂ = f·W_dec + b_dec     (NN GEMM, or the zero-skipping product when f is sparse)
import centerCode from '../../../../shaders/center.wgsl?raw';
import type { Op, PassContext } from './context';

export function centerPasses(c: PassContext): Op[] {
  const { b } = c;
  return [
    c.dispatch(
      'center',
      c.kernel('center', centerCode),
      { x: b.x, b_dec: b.param.b_dec.value[0], xc: b.xc },
      Math.ceil((c.N * c.d) / 256),
    ),
  ];
}

/** pre (row block ri) = xc_rows·W_enc + b_enc, one GEMM per feature block. */
export function encoderPasses(c: PassContext, ri: number): Op[] {
  const { b, d, m } = c;
  const r = c.R[ri];
  return c.F.map((f, fi) =>
    c.gemm(
      `encoder.r${ri}.f${fi}`,
      {
        layout: 'NN',
        M: r.rows,
        N: f.feats,
        K: d,
        offA: r.row0 * d,
        offC: f.feat0,
        ldc: m,
        offBias: f.feat0,
      },
      b.xc,
      b.param.W_enc.value[fi],
      b.pre[ri],
      b.param.b_enc.value[0],
    ),
  );
}

/** x̂ (rows of row block ri) = f·W_dec + b_dec, accumulated over feature blocks. */
export function decoderPasses(c: PassContext, ri: number): Op[] {
  const { b } = c;
  return c.F.map((f, fi) =>
    c.decode(
      `decoder.r${ri}.f${fi}`,
      c.sparseF,
      c.R[ri],
      f,
      fi,
      b.f[ri],
      b.xhat,
      fi === 0 ? b.param.b_dec.value[0] : undefined,
    ),
  );
}
