// Forward stage 2 of the SAE step, f = act(pre), as the architecture's recipe says (GpuRecipe.activation,
// src/sae/architectures):
//   'elementwise'  shaders/activate.wgsl: ReLU max(pre, 0), or JumpReLU pre·H(pre − θ) (JUMPRELU)
//   'topk'         shaders/topk.wgsl: the k largest per row (radix select, one workgroup per row)
//   'batchtopk'    training: the k·N largest over the whole batch (Bussmann et al. 2024; SAELens
//                  BatchTopK), a radix select across every row block (shaders/batchtopk_hist, _decide,
//                  _ties, _cut, _apply), which also moves the inference threshold θ (trainer state,
//                  STATE.topk_threshold); inference (evaluation, forward): f = pre·H(pre − θ)
//                  (shaders/batchtopk_infer.wgsl), the JumpReLU SAELens saves a BatchTopK SAE as.
// Any architecture with `gpu.activation: 'batchtopk'` (Matryoshka BatchTopK, T-SAE) gets the same passes.
//
// The stage as the step builder (saePasses.ts) records it:
//   per-row activations   center; per row block: encoder, block(ri), decoder
//   batch-wide (batch ≠ [])  center; every row block's encoder; batch; per row block: block(ri), decoder
//   inference             center; per row block: encoder, infer(ri), decoder
// Row blocks (PassContext.R, chunks.ts) are whole sequences; the batch-wide select counts every block
// into one histogram and cuts ties in flat (batch row, feature) order, so a split batch selects exactly
// what one block would.
import activateCode from '../../../../shaders/activate.wgsl?raw';
import btkApplyCode from '../../../../shaders/batchtopk_apply.wgsl?raw';
import btkCutCode from '../../../../shaders/batchtopk_cut.wgsl?raw';
import btkDecideCode from '../../../../shaders/batchtopk_decide.wgsl?raw';
import btkHistCode from '../../../../shaders/batchtopk_hist.wgsl?raw';
import btkInferCode from '../../../../shaders/batchtopk_infer.wgsl?raw';
import btkTiesCode from '../../../../shaders/batchtopk_ties.wgsl?raw';
import topkCode from '../../../../shaders/topk.wgsl?raw';
import type { Op, PassContext } from './context';

export interface ActivationStage {
  /** Training ops of row block ri, after its encoder (batch-wide: after `batch`). */
  block(ri: number): Op[];
  /** Batch-wide training ops, after every row block's encoder and before any block(ri); [] if none. */
  batch: Op[];
  /** Inference ops of row block ri (evaluation, forward()), after its encoder. */
  infer(ri: number): Op[];
}

/** Radix rounds of the BatchTopK select: 8 key bits each, 32 in all (shaders/batchtopk_hist.wgsl). */
const BTK_ROUNDS = 4;
/** Invocations per workgroup of the element-wise BatchTopK passes (hist, ties, apply). */
const BTK_WG = 64;

/** The activation stage of every row block, with the kernels built once. */
export function activationPasses(c: PassContext): ActivationStage {
  const kind = c.arch.gpu.activation;
  switch (kind) {
    case 'elementwise': {
      const ops = perBlock(elementwisePasses(c));
      return { block: ops, batch: [], infer: ops };
    }
    case 'topk': {
      const ops = perBlock(topkPasses(c));
      return { block: ops, batch: [], infer: ops };
    }
    case 'batchtopk':
      return batchTopkPasses(c);
    default: {
      const never: never = kind;
      throw new Error(`no activation passes for '${String(never)}'`);
    }
  }
}

/** The ops of each row block made once (training and inference record the same ones). */
function perBlock(make: (ri: number) => Op[]): (ri: number) => Op[] {
  const made = new Map<number, Op[]>();
  return (ri) => {
    let ops = made.get(ri);
    if (!ops) made.set(ri, (ops = make(ri)));
    return ops;
  };
}

function elementwisePasses(c: PassContext): (ri: number) => Op[] {
  const { b, m } = c;
  const kernel = c.kernel('activate', activateCode, { JUMPRELU: c.threshold ? 1 : 0 });
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
}

function topkPasses(c: PassContext): (ri: number) => Op[] {
  const { b } = c;
  const kernel = c.kernel('topk', topkCode, c.selectWg);
  return (ri) => [
    c.dispatch(
      `topk.r${ri}`,
      kernel,
      { pre: b.pre[ri], rowflags: b.rowflags, f: b.f[ri], blk: c.rowBlk[ri] },
      c.R[ri].rows,
    ),
  ];
}

/**
 * BatchTopK: reset, 4 × (hist over every row block, decide), ties and cut per block (the first block's
 * cut moves θ), then apply per block; inference through the threshold.
 */
export function batchTopkPasses(c: PassContext): ActivationStage {
  const { b, m, R } = c;
  const btk = b.btk;
  if (!btk) throw new Error(`${c.arch.name}: the trainer has no BatchTopK buffers (bufferSpecs.ts btk)`);
  const wg = { WG: BTK_WG };
  const reset = c.kernel('batchtopk_reset', btkDecideCode, { RESET: 1 });
  const decide = c.kernel('batchtopk_decide', btkDecideCode);
  // A workgroup histogram on real GPUs only (shaders/batchtopk_hist.wgsl says why).
  const hist = c.kernel('batchtopk_hist', btkHistCode, { ...wg, LOCAL_HIST: c.design === 'tiled' ? 1 : 0 });
  const ties = c.kernel('batchtopk_ties', btkTiesCode, wg);
  const cut = c.kernel('batchtopk_cut', btkCutCode);
  const apply = c.kernel('batchtopk_apply', btkApplyCode, wg);
  const infer = c.kernel('batchtopk_infer', btkInferCode);
  const cells = (ri: number) => R[ri].rows * m;
  const batch: Op[] = [c.dispatch('batchtopk_reset', reset, { sel: btk.sel, hist: btk.hist }, 1)];
  for (let round = 0; round < BTK_ROUNDS; round++) {
    R.forEach((_, ri) =>
      batch.push(
        c.dispatch(
          `batchtopk_hist${round}.r${ri}`,
          hist,
          { pre: b.pre[ri], rowflags: b.rowflags, sel: btk.sel, hist: btk.hist, blk: c.rowBlk[ri] },
          Math.ceil(cells(ri) / BTK_WG),
        ),
      ),
    );
    batch.push(c.dispatch(`batchtopk_decide${round}`, decide, { sel: btk.sel, hist: btk.hist }, 1));
  }
  R.forEach((r, ri) =>
    batch.push(
      c.dispatch(
        `batchtopk_ties.r${ri}`,
        ties,
        { pre: b.pre[ri], rowflags: b.rowflags, sel: btk.sel, row_ties: btk.row_ties, blk: c.rowBlk[ri] },
        Math.ceil(r.rows / BTK_WG),
      ),
    ),
  );
  R.forEach((_, ri) =>
    batch.push(
      c.dispatch(
        `batchtopk_cut.r${ri}`,
        cut,
        { pre: b.pre[ri], row_ties: btk.row_ties, sel: btk.sel, state: b.state, blk: c.rowBlk[ri] },
        1,
      ),
    ),
  );
  return {
    batch,
    block: perBlock((ri) => [
      c.dispatch(
        `batchtopk_apply.r${ri}`,
        apply,
        { pre: b.pre[ri], rowflags: b.rowflags, sel: btk.sel, f: b.f[ri], blk: c.rowBlk[ri] },
        Math.ceil(cells(ri) / BTK_WG),
      ),
    ]),
    infer: perBlock((ri) => [
      c.dispatch(
        `batchtopk_infer.r${ri}`,
        infer,
        { pre: b.pre[ri], rowflags: b.rowflags, state: b.state, f: b.f[ri], blk: c.rowBlk[ri] },
        Math.ceil(cells(ri) / 256),
      ),
    ]),
  };
}
