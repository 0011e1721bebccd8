// Backward stage of the SAE step (SPEC §5):
//   grad_f       g = g_x̂·W_decᵀ (NT GEMM; masked to f's non-zeros when f is sparse)
//   feature_grad g_pre from g: + sparsity (architecture's `sparsity`), temporal, θ terms  feature_grad.wgsl
//   AuxK         g_ê·W_decᵀ masked by f_aux, added into g_pre                           aux_add.wgsl
//   ∂W_dec       fᵀ·g_x̂ (+ f_auxᵀ·g_ê) per feature block, summed over row blocks
//   ∂W_enc       xcᵀ·g_pre (or the transposed sparse product g_preᵀ·xc)
//   column       ∂b_enc, ∂log θ, dead-feature tracking                                  column.wgsl
//   ∂b_dec       and the decoder-row projection of ∂W_dec                 bdec_grad.wgsl, dec_project.wgsl
// Matryoshka (GpuRecipe.matryoshka): ∂L_mat/∂f = C⁽ᵍ⁽ⁱ⁾⁾·W_dec_iᵀ (matryoshka_grad_f.wgsl) in place of
// g_x̂·W_decᵀ, ∂W_dec = fᵀ·C per group (matryoshka_grad_wdec.wgsl) in place of fᵀ·g_x̂, and bdec_grad
// sums C's first slice (C⁽⁰⁾ holds every prefix's b_dec term) in place of g_x̂; T-SAE adds
// c_nce·∂L_nce/∂f into the first H columns (infonce_add.wgsl) before feature_grad adds the temporal term
// and masks by the active set. One row block and one feature block (./methods.ts methodChunkRefusal).
import auxAddCode from '../../../../shaders/aux_add.wgsl?raw';
import bdecCode from '../../../../shaders/bdec_grad.wgsl?raw';
import columnCode from '../../../../shaders/column.wgsl?raw';
import projectCode from '../../../../shaders/dec_project.wgsl?raw';
import featureGradCode from '../../../../shaders/feature_grad.wgsl?raw';
import nceAddCode from '../../../../shaders/infonce_add.wgsl?raw';
import matGradFCode from '../../../../shaders/matryoshka_grad_f.wgsl?raw';
import matGradWdecCode from '../../../../shaders/matryoshka_grad_wdec.wgsl?raw';
import type { Op, PassContext } from './context';
import { METHOD_WG, methodKernel, methodPlans } from './methods';

const wgs = (n: number) => Math.ceil(n / METHOD_WG);

/** ∂L_mat/∂f (+ c_nce·∂L_nce/∂f) into g, before feature_grad (whole batch: one block). */
function methodGradF(c: PassContext): Op[] {
  const { b, N, m, device } = c;
  const ops: Op[] = [];
  if (!b.mat) return ops;
  ops.push(
    c.dispatch(
      'mat_grad_f',
      methodKernel(device, 'mat_grad_f', matGradFCode),
      { p: b.mat.params, cgrad: b.mat.cgrad, w_dec: b.param.W_dec.value[0], g_f: b.g[0] },
      wgs(N * m),
    ),
  );
  const nce = methodPlans(c.cfg).nce;
  if (b.nce && nce)
    ops.push(
      c.dispatch(
        'nce_add',
        methodKernel(device, 'nce_add', nceAddCode),
        { p: b.nce.params, g_code: b.nce.g_code, g: b.g[0] },
        wgs(N * nce.H),
      ),
    );
  return ops;
}

/** feature_grad.wgsl SPARSITY: the sparsity gradient of the architecture (0 none, 1 L1, 2 L0). */
const SPARSITY_CODE = { none: 0, L1: 1, L0: 2 } as const;

export function backwardPasses(c: PassContext): Op[] {
  const { b, d, m } = c;
  const P = b.param;
  const ops: Op[] = [];
  const { mat } = b;
  if (mat) ops.push(...methodGradF(c));
  else ops.push(...c.productWdecT('grad_f', b.g_xhat, b.g, c.sparseF ? b.f : undefined));
  const fg = c.kernel('feature_grad', featureGradCode, {
    SPARSITY: SPARSITY_CODE[c.arch.sparsity ?? 'none'],
    THRESHOLD: c.threshold ? 1 : 0,
    ...c.rowWg,
  });
  c.R.forEach((r, ri) =>
    ops.push(
      c.dispatch(
        `feature_grad.r${ri}`,
        fg,
        {
          f: b.f[ri],
          g: b.g[ri],
          pre: b.pre[ri],
          log_threshold: P.log_threshold.value[0],
          rowflags: b.rowflags,
          state: b.state,
          row_stats: b.row_stats,
          blk: c.rowBlk[ri],
        },
        r.rows,
      ),
    ),
  );
  const { f_aux, ehat } = b;
  if (f_aux && ehat) {
    // g_ê·W_decᵀ into `pre` (free for TopK once both selections are done), then masked into g_pre.
    ops.push(...c.productWdecT('aux_grad_f', ehat, b.pre, c.sparseAux ? f_aux : undefined));
    const add = c.kernel('aux_add', auxAddCode);
    c.R.forEach((r, ri) =>
      ops.push(
        c.dispatch(
          `aux_add.r${ri}`,
          add,
          { f_aux: f_aux[ri], g_aux: b.pre[ri], g: b.g[ri], blk: c.rowBlk[ri] },
          Math.ceil((r.rows * m) / 256),
        ),
      ),
    );
  }
  c.F.forEach((f, fi) =>
    c.R.forEach((r, ri) => {
      // ∂W_dec (rows of this feature block) = Σ_row-blocks f_blockᵀ·g_x̂ (+ AuxK's f_auxᵀ·g_ê).
      ops.push(
        mat
          ? c.dispatch(
              'mat_grad_wdec',
              methodKernel(c.device, 'mat_grad_wdec', matGradWdecCode),
              { p: mat.params, cgrad: mat.cgrad, f: b.f[0], g_out: P.W_dec.grad[0] },
              wgs(m * d),
            )
          : c.featRows(
              `grad_W_dec.f${fi}.r${ri}`,
              c.sparseF,
              r,
              f,
              ri > 0,
              b.f[ri],
              b.g_xhat,
              P.W_dec.grad[fi],
            ),
      );
      if (f_aux && ehat)
        ops.push(
          c.featRows(
            `aux_grad_W_dec.f${fi}.r${ri}`,
            c.sparseAux,
            r,
            f,
            true,
            f_aux[ri],
            ehat,
            P.W_dec.grad[fi],
          ),
        );
      // ∂W_enc (columns of this feature block) = Σ_row-blocks xcᵀ·g_pre. With sparse f, g_pre is non-zero
      // only at active (and AuxK-chosen) features: the transposed sparse product g_preᵀ·xc, written into
      // W_enc's [d, feats] layout through C's strides.
      ops.push(
        c.sparseF
          ? c.sparse(
              `grad_W_enc.f${fi}.r${ri}`,
              { ...c.featRowsShape(r, f, ri > 0), sCr: 1, sCc: f.feats },
              b.g[ri],
              b.xc,
              P.W_enc.grad[fi],
            )
          : c.gemm(
              `grad_W_enc.f${fi}.r${ri}`,
              {
                layout: 'TN',
                M: d,
                N: f.feats,
                K: r.rows,
                offA: r.row0 * d,
                offB: f.feat0,
                ldb: m,
                accumulate: ri > 0,
              },
              b.xc,
              b.g[ri],
              P.W_enc.grad[fi],
            ),
      );
    }),
  );
  const col = c.kernel('column', columnCode, { JUMPRELU: c.threshold ? 1 : 0 });
  c.R.forEach((_, ri) =>
    ops.push(
      c.dispatch(
        `column.r${ri}`,
        col,
        {
          f: b.f[ri],
          g_pre: b.g[ri],
          theta_terms: b.pre[ri],
          grad_b_enc: P.b_enc.grad[0],
          grad_log_threshold: P.log_threshold.grad[0],
          tokens_since_fired: b.tokens_since_fired,
          counters: b.counters,
          blk: c.rowBlk[ri],
        },
        Math.ceil(m / 256),
      ),
    ),
  );
  const bdec = c.kernel('bdec_grad', bdecCode, c.rowWg);
  const proj = c.kernel('dec_project', projectCode, c.rowWg);
  c.F.forEach((_, fi) =>
    ops.push(
      c.dispatch(
        `bdec_grad.f${fi}`,
        bdec,
        {
          // Matryoshka: C's first [N, d] slice is ∂L_mat/∂x̂ summed over the prefixes holding b_dec (all).
          g_xhat: mat ? mat.cgrad : b.g_xhat,
          W_enc: P.W_enc.value[fi],
          grad_b_enc: P.b_enc.grad[0],
          grad_b_dec: P.b_dec.grad[0],
          blk: c.featBlk[fi],
        },
        d,
      ),
    ),
  );
  c.F.forEach((f, fi) =>
    ops.push(
      c.dispatch(
        `dec_project.f${fi}`,
        proj,
        { W_dec: P.W_dec.value[fi], grad_W_dec: P.W_dec.grad[fi], blk: c.featBlk[fi] },
        f.feats,
      ),
    ),
  );
  return ops;
}
