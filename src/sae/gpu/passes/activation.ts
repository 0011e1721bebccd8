// Forward stage 2 of the SAE step, f = act(pre), as the architecture's recipe says (GpuRecipe.activation,
// src/sae/architectures):
//   'elementwise'  shaders/activate.wgsl: ReLU max(pre, 0), or JumpReLU pre·H(pre − θ) (JUMPRELU)
//   'topk'         shaders/topk.wgsl: the k largest per row (radix select, one workgroup per row)
// A new activation (e.g. BatchTopK) adds its case here.
import activateCode from '../../../../shaders/activate.wgsl?raw';
import topkCode from '../../../../shaders/topk.wgsl?raw';
import type { NamedKernel } from '../../../gpu/kernel';
import type { Op, PassContext } from './context';

/** The activation passes of every row block, with the kernel built once. */
export function activationPasses(c: PassContext): (ri: number) => Op[] {
  const { b, m } = c;
  const kind = c.arch.gpu.activation;
  let kernel: NamedKernel;
  switch (kind) {
    case 'elementwise':
      kernel = c.kernel('activate', activateCode, { JUMPRELU: c.threshold ? 1 : 0 });
      return (ri) => [
        c.dispatch(
          `activate.r${ri}`,
          kernel,
          {
            pre: b.pre[ri],
            log_threshold: b.param.log_threshold.value[0],
            rowflags: b.rowflags,
            f: b.f[ri],
            blk: c.rowBlk[ri],
          },
          Math.ceil((c.R[ri].rows * m) / 256),
        ),
      ];
    case 'topk':
      kernel = c.kernel('topk', topkCode, c.selectWg);
      return (ri) => [
        c.dispatch(
          `topk.r${ri}`,
          kernel,
          { pre: b.pre[ri], rowflags: b.rowflags, f: b.f[ri], blk: c.rowBlk[ri] },
          c.R[ri].rows,
        ),
      ];
    default: {
      const never: never = kind;
      throw new Error(`no activation passes for '${String(never)}'`);
    }
  }
}
