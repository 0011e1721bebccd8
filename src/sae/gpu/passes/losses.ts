// Loss stage of the SAE step (SPEC §4):
//   recon        per-row reconstruction loss and g_x̂ = ∂L_recon/∂x̂         shaders/recon.wgsl
//   alpha        L_recon → L_max → α (on the GPU, a constant in backward)   shaders/alpha.wgsl
//   AuxK (TopK, GpuRecipe.auxk; Gao et al. 2024): choose dead features (auxk_select.wgsl),
//                ê = f_aux·W_dec, residual loss and g_ê (aux_resid.wgsl)
// The sparsity and temporal terms are summed per row in backward (feature_grad.wgsl) and reduced with
// the others in finalize.wgsl.
import alphaCode from '../../../../shaders/alpha.wgsl?raw';
import auxResidCode from '../../../../shaders/aux_resid.wgsl?raw';
import auxkSelectCode from '../../../../shaders/auxk_select.wgsl?raw';
import reconCode from '../../../../shaders/recon.wgsl?raw';
import type { Op, PassContext } from './context';

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
  return ops;
}
