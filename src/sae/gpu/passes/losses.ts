// Loss stage of the SAE step (SPEC §4):
//   recon        per-row reconstruction loss and g_x̂ = ∂L_recon/∂x̂         shaders/recon.wgsl
//   alpha        L_recon → L_max → α (on the GPU, a constant in backward)   shaders/alpha.wgsl
//   AuxK (TopK, GpuRecipe.auxk; Gao et al. 2024): choose dead features (auxk_select.wgsl),
//                ê = f_aux·W_dec, residual loss and g_ê (aux_resid.wgsl)
//   Matryoshka (GpuRecipe.matryoshka; Bussmann et al. 2025): prefix residuals R and their cumulative
//                gradients C (matryoshka_resid.wgsl), per-prefix row losses (matryoshka_rowloss.wgsl);
//                recon and alpha still run on the whole dictionary's x̂ (α's L_recon, SPEC §4)
//   InfoNCE (GpuRecipe.contrastive; T-SAE, Bhalla et al. 2025): code norms, logits, log-sum-exps and the
//                loss, the logits' gradient, ∂ of the codes (infonce_norms, _logits, _lse, _softmax,
//                _grad.wgsl) over the batch's pairs
// The sparsity and temporal terms are summed per row in backward (feature_grad.wgsl) and reduced with
// the others in finalize.wgsl (which also forms L_mat and adds the contrastive term).
import alphaCode from '../../../../shaders/alpha.wgsl?raw';
import nceGradCode from '../../../../shaders/infonce_grad.wgsl?raw';
import nceLogitsCode from '../../../../shaders/infonce_logits.wgsl?raw';
import nceLseCode from '../../../../shaders/infonce_lse.wgsl?raw';
import nceNormsCode from '../../../../shaders/infonce_norms.wgsl?raw';
import nceSoftmaxCode from '../../../../shaders/infonce_softmax.wgsl?raw';
import matResidCode from '../../../../shaders/matryoshka_resid.wgsl?raw';
import matRowLossCode from '../../../../shaders/matryoshka_rowloss.wgsl?raw';
import auxResidCode from '../../../../shaders/aux_resid.wgsl?raw';
import auxkSelectCode from '../../../../shaders/auxk_select.wgsl?raw';
import reconCode from '../../../../shaders/recon.wgsl?raw';
import type { Op, PassContext } from './context';
import { METHOD_WG, methodKernel, methodPlans } from './methods';

const wgs = (n: number) => Math.ceil(n / METHOD_WG);

/** Matryoshka prefix losses and InfoNCE (whole batch in one block: methodChunkRefusal, ./methods.ts). */
function methodLossPasses(c: PassContext): Op[] {
  const { b, N, d, device } = c;
  const ops: Op[] = [];
  if (b.mat) {
    const { mat } = b;
    const G = methodPlans(c.cfg).mat!.ends.length;
    ops.push(
      c.dispatch(
        'mat_resid',
        methodKernel(device, 'mat_resid', matResidCode),
        {
          p: mat.params,
          x: b.x,
          f: b.f[0],
          w_dec: b.param.W_dec.value[0],
          b_dec: b.param.b_dec.value[0],
          rowflags: b.rowflags,
          resid: mat.resid,
          cgrad: mat.cgrad,
        },
        wgs(N * d),
      ),
      c.dispatch(
        'mat_rowloss',
        methodKernel(device, 'mat_rowloss', matRowLossCode),
        { p: mat.params, resid: mat.resid, row_loss: mat.row_loss },
        wgs(G * N),
      ),
    );
  }
  if (b.nce) {
    const { nce } = b;
    const k = (name: string, code: string) => methodKernel(device, name, code);
    ops.push(
      c.dispatch(
        'nce_norms',
        k('nce_norms', nceNormsCode),
        { p: nce.params, f: b.f[0], pairs: nce.pairs, norms: nce.norms },
        wgs(2 * N),
      ),
      c.dispatch(
        'nce_logits',
        k('nce_logits', nceLogitsCode),
        { p: nce.params, f: b.f[0], pairs: nce.pairs, norms: nce.norms, logits: nce.logits },
        wgs(N * N),
      ),
      c.dispatch(
        'nce_lse',
        k('nce_lse', nceLseCode),
        { p: nce.params, logits: nce.logits, lse: nce.lse, loss: nce.loss },
        1,
      ),
      c.dispatch(
        'nce_softmax',
        k('nce_softmax', nceSoftmaxCode),
        { p: nce.params, logits: nce.logits, lse: nce.lse, gmat: nce.gmat },
        wgs(N * N),
      ),
      c.dispatch(
        'nce_grad',
        k('nce_grad', nceGradCode),
        {
          p: nce.params,
          f: b.f[0],
          pairs: nce.pairs,
          role: nce.role,
          norms: nce.norms,
          gmat: nce.gmat,
          g_code: nce.g_code,
        },
        wgs(2 * N),
      ),
    );
  }
  return ops;
}

export function lossPasses(c: PassContext): Op[] {
  const { b, N } = c;
  const ops: Op[] = [
    c.dispatch(
      'recon',
      c.kernel('recon', reconCode, c.rowWg),
      { x: b.x, xhat: b.xhat, rowflags: b.rowflags, g_xhat: b.g_xhat, row_stats: b.row_stats },
      N,
    ),
    c.dispatch('alpha', c.kernel('alpha', alphaCode), { row_stats: b.row_stats, state: b.state }, 1),
  ];
  if (b.f_aux && b.ehat) {
    const { f_aux, ehat } = b;
    const sel = c.kernel('auxk_select', auxkSelectCode, c.selectWg);
    c.R.forEach((r, ri) => {
      ops.push(
        c.dispatch(
          `auxk_select.r${ri}`,
          sel,
          {
            pre: b.pre[ri],
            tokens_since_fired: b.tokens_since_fired,
            rowflags: b.rowflags,
            f_aux: f_aux[ri],
            state: b.state,
            blk: c.rowBlk[ri],
          },
          r.rows,
        ),
        ...c.F.map((f, fi) => c.decode(`aux_ehat.r${ri}.f${fi}`, c.sparseAux, r, f, fi, f_aux[ri], ehat)),
      );
    });
    ops.push(
      c.dispatch(
        'aux_resid',
        c.kernel('aux_resid', auxResidCode, c.rowWg),
        {
          x: b.x,
          xhat: b.xhat,
          ehat,
          rowflags: b.rowflags,
          state: b.state,
          aux_rows: b.aux_rows,
        },
        N,
      ),
    );
  }
  ops.push(...methodLossPasses(c));
  return ops;
}
