// Update stage of the SAE step (SPEC §5):
//   adam       per parameter block: Adam, ‖g‖² partial sums, non-finite check     shaders/adam.wgsl
//   dec_renorm W_dec rows back to unit norm                                       shaders/dec_renorm.wgsl
//   finalize   losses, α, L_max, L0, dead count, ‖g‖ and fault bits → metrics     shaders/finalize.wgsl
import adamCode from '../../../../shaders/adam.wgsl?raw';
import finalizeCode from '../../../../shaders/finalize.wgsl?raw';
import renormCode from '../../../../shaders/dec_renorm.wgsl?raw';
import { adamDispatches } from '../bufferSpecs';
import type { ChunkPlan } from '../chunks';
import { PARAM_NAMES } from '../layout';
import type { Op, PassContext } from './context';
import { finalizeConstants } from './methods';

export function optimizerPasses(c: PassContext, chunks: ChunkPlan): Op[] {
  const { b } = c;
  const ops: Op[] = [];
  for (const a of adamDispatches(c.cfg, chunks)) {
    const set = b.param[a.param];
    const kernel = c.kernel(`adam.${a.name}`, adamCode, {
      COUNT: a.count,
      BASE: a.base,
      BIT: PARAM_NAMES.indexOf(a.param),
    });
    ops.push(
      c.dispatch(
        `adam.${a.name}`,
        kernel,
        {
          param: set.value[a.block],
          grad: set.grad[a.block],
          m1: set.adam_m[a.block],
          m2: set.adam_v[a.block],
          partials: b.partials,
          counters: b.counters,
        },
        a.workgroups,
      ),
    );
  }
  const renorm = c.kernel('dec_renorm', renormCode, c.rowWg);
  c.F.forEach((f, fi) =>
    ops.push(
      c.dispatch(
        `dec_renorm.f${fi}`,
        renorm,
        { W_dec: b.param.W_dec.value[fi], blk: c.featBlk[fi] },
        f.feats,
      ),
    ),
  );
  ops.push(
    c.dispatch(
      'finalize',
      c.kernel('finalize', finalizeCode, finalizeConstants(c.cfg)),
      {
        row_stats: b.row_stats,
        partials: b.partials,
        state: b.state,
        counters: b.counters,
        metrics: b.metrics,
        aux_rows: b.aux_rows,
        // Matryoshka's row losses and T-SAE's L_nce; architectures without them bind aux_rows (never read).
        mat_rows: b.mat?.row_loss ?? b.aux_rows,
        nce_loss: b.nce?.loss ?? b.aux_rows,
      },
      1,
    ),
  );
  return ops;
}
