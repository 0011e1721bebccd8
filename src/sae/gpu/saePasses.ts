// The SAE step as GPU passes: pipelines and bind groups built once per trainer by small stage builders
// (src/sae/gpu/passes/), then recorded into one compute pass per step. Order and buffer roles follow
// SPEC §3–5:
//   forward:  xc = x − b_dec; pre = xc·W_enc + b_enc; f = act(pre); x̂ = f·W_dec + b_dec
//                                                     passes/encoder.ts, passes/activation.ts
//   losses:   per-row recon loss and g_x̂; L_recon → L_max → α (GPU, constant in backward); AuxK
//                                                     passes/losses.ts
//   backward: g = g_x̂·W_decᵀ; g_pre (+ sparsity, temporal, JumpReLU θ terms); ∂W_dec = fᵀ·g_x̂;
//             ∂W_enc = xcᵀ·g_pre; ∂b_enc, ∂log θ, dead tracking; ∂b_dec; decoder-row projection
//                                                     passes/backward.ts
//   update:   Adam per parameter (+ ‖g‖² partials, non-finite check); W_dec row renorm; metrics
//                                                     passes/optimizer.ts
// What differs between architectures comes from their description (src/sae/architectures). Big matrices
// may be split (chunks.ts): [N, m] buffers into row blocks, W_enc/W_dec into feature blocks; the GEMMs
// address blocks by offsets and leading dimensions, per-feature kernels accumulate over blocks.
import type { GemmDesign } from '../../gpu/gemm';
import type { TrainConfig } from '../config';
import type { ChunkPlan } from './chunks';
import { activationPasses } from './passes/activation';
import { backwardPasses } from './passes/backward';
import { PassContext, type Op } from './passes/context';
import { centerPasses, decoderPasses, encoderPasses } from './passes/encoder';
import { lossPasses } from './passes/losses';
import { optimizerPasses } from './passes/optimizer';
import type { SaeBuffers } from './saeBuffers';

export { withSaeStructs } from './wgsl';

export class SaePasses {
  private readonly ctx: PassContext;
  /** The training step's forward (BatchTopK: the batch-wide select) and the inference forward. */
  private readonly forwardOps: Op[];
  private readonly inferOps: Op[];
  private readonly backwardOps: Op[];

  constructor(
    device: GPUDevice,
    cfg: TrainConfig,
    b: SaeBuffers,
    design: GemmDesign,
    chunks: ChunkPlan,
    /** 'dense' runs every product with f as a dense GEMM (bench/passes.ts compares the two). */
    products: 'auto' | 'dense' = 'auto',
  ) {
    const c = (this.ctx = new PassContext(device, cfg, b, design, chunks, products));
    const act = activationPasses(c);
    const center = centerPasses(c);
    const encoders = c.R.map((_, ri) => encoderPasses(c, ri));
    const decoders = c.R.map((_, ri) => decoderPasses(c, ri));
    // Per row block: encoder, activation, decoder (each row block is complete before the next); a
    // batch-wide activation (BatchTopK) runs after every block's encoder (passes/activation.ts).
    this.forwardOps = act.batch.length
      ? [
          ...center,
          ...encoders.flat(),
          ...act.batch,
          ...c.R.flatMap((_, ri) => [...act.block(ri), ...decoders[ri]]),
        ]
      : [...center, ...c.R.flatMap((_, ri) => [...encoders[ri], ...act.block(ri), ...decoders[ri]])];
    this.inferOps = [
      ...center,
      ...c.R.flatMap((_, ri) => [...encoders[ri], ...act.infer(ri), ...decoders[ri]]),
    ];
    this.backwardOps = [...lossPasses(c), ...backwardPasses(c), ...optimizerPasses(c, chunks)];
  }

  /** Every pass of a training step in order, each recordable alone (the per-pass bench, bench/passes.ts). */
  stepOps(): Op[] {
    return [...this.forwardOps, ...this.backwardOps].map((o) => ({
      label: o.label,
      record: (pass: GPUComputePassEncoder) => o.record(pass),
    }));
  }

  /** The inference forward (evaluation, forward()): BatchTopK through its threshold θ, not the select. */
  recordForward(pass: GPUComputePassEncoder): void {
    for (const o of this.inferOps) o.record(pass);
  }

  recordTrainStep(pass: GPUComputePassEncoder): void {
    for (const o of this.forwardOps) o.record(pass);
    for (const o of this.backwardOps) o.record(pass);
  }

  destroy(): void {
    this.ctx.destroy();
  }
}
