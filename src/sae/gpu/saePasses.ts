// The SAE step as GPU passes: pipelines and bind groups built once per trainer, then recorded into one
// compute pass per step (5 GEMMs + light passes). Order and buffer roles follow SPEC §3–5:
//   forward:  xc = x − b_dec; pre = xc·W_enc + b_enc; f = act(pre); x̂ = f·W_dec + b_dec
//   losses:   per-row recon loss and g_x̂; L_recon → L_max → α (GPU, constant in backward)
//   backward: g = g_x̂·W_decᵀ; g_pre (+ sparsity, temporal, JumpReLU θ terms); ∂W_dec = fᵀ·g_x̂;
//             ∂W_enc = xcᵀ·g_pre; ∂b_enc, ∂log θ, dead tracking; ∂b_dec; decoder-row projection
//   update:   Adam per parameter (+ ‖g‖² partials, non-finite check); W_dec row renorm; metrics
import activateCode from '../../../shaders/activate.wgsl?raw';
import adamCode from '../../../shaders/adam.wgsl?raw';
import alphaCode from '../../../shaders/alpha.wgsl?raw';
import auxAddCode from '../../../shaders/aux_add.wgsl?raw';
import auxResidCode from '../../../shaders/aux_resid.wgsl?raw';
import auxkSelectCode from '../../../shaders/auxk_select.wgsl?raw';
import bdecCode from '../../../shaders/bdec_grad.wgsl?raw';
import centerCode from '../../../shaders/center.wgsl?raw';
import columnCode from '../../../shaders/column.wgsl?raw';
import projectCode from '../../../shaders/dec_project.wgsl?raw';
import renormCode from '../../../shaders/dec_renorm.wgsl?raw';
import featureGradCode from '../../../shaders/feature_grad.wgsl?raw';
import finalizeCode from '../../../shaders/finalize.wgsl?raw';
import reconCode from '../../../shaders/recon.wgsl?raw';
import topkCode from '../../../shaders/topk.wgsl?raw';
import { grid } from '../../gpu/dispatch';
import { GemmOp, type GemmDesign } from '../../gpu/gemm';
import { bindBuffers, createKernel } from '../../gpu/kernel';
import { tokensPerStep, type TrainConfig } from '../config';
import { ARCH_CODE, auxkOn, GRAD_PARTS, PARAM_NAMES } from './layout';
import { paramSizes } from './bufferSpecs';
import type { SaeBuffers } from './saeBuffers';

interface Dispatch {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  wg: [number, number];
}

export class SaePasses {
  private readonly forwardOps: (Dispatch | GemmOp)[] = [];
  private readonly backwardOps: (Dispatch | GemmOp)[] = [];
  private readonly gemms: GemmOp[] = [];

  constructor(device: GPUDevice, cfg: TrainConfig, b: SaeBuffers, design: GemmDesign) {
    const N = tokensPerStep(cfg);
    const d = cfg.d_in;
    const m = cfg.d_sae;
    const arch = ARCH_CODE[cfg.architecture];
    const P = b.params;
    const k = (label: string, code: string, constants?: Record<string, number>) =>
      createKernel(device, { label: `sae.${label}`, code, constants });
    const op = (label: string, pipeline: GPUComputePipeline, bufs: GPUBuffer[], wg: number): Dispatch => ({
      pipeline,
      bind: bindBuffers(device, pipeline, `sae.${label}.bind`, bufs),
      wg: grid(wg),
    });
    const gemm = (...a: ConstructorParameters<typeof GemmOp>) => {
      const g = new GemmOp(...a);
      this.gemms.push(g);
      return g;
    };

    // ---- forward ----
    this.forwardOps.push(
      op('center', k('center', centerCode), [P, b.x, b.b_dec, b.xc], Math.ceil((N * d) / 256)),
      gemm(device, 'sae.encoder', design, { layout: 'NN', M: N, N: m, K: d }, b.xc, b.W_enc, b.pre, b.b_enc),
      cfg.architecture === 'topk'
        ? op('topk', k('topk', topkCode), [P, b.pre, b.rowflags, b.f], N)
        : op(
            'activate',
            k('activate', activateCode, { JUMPRELU: arch === 2 ? 1 : 0 }),
            [P, b.pre, b.log_threshold, b.rowflags, b.f],
            Math.ceil((N * m) / 256),
          ),
      gemm(device, 'sae.decoder', design, { layout: 'NN', M: N, N: d, K: m }, b.f, b.W_dec, b.xhat, b.b_dec),
    );

    // ---- losses, backward, update ----
    const sizes = paramSizes(cfg);
    const params = PARAM_NAMES.filter((p) => p !== 'log_threshold' || cfg.architecture === 'jumprelu');
    const aux = auxkOn(cfg);
    this.backwardOps.push(
      op('recon', k('recon', reconCode), [P, b.x, b.xhat, b.rowflags, b.g_xhat, b.row_stats], N),
      op('alpha', k('alpha', alphaCode), [P, b.row_stats, b.state], 1),
    );
    // TopK AuxK: choose dead features, ê = f_aux·W_dec, residual loss and g_ê (Gao et al. 2024).
    if (aux)
      this.backwardOps.push(
        op(
          'auxk_select',
          k('auxk_select', auxkSelectCode),
          [P, b.pre, b.tokens_since_fired, b.rowflags, b.f_aux, b.state],
          N,
        ),
        gemm(device, 'sae.aux_ehat', design, { layout: 'NN', M: N, N: d, K: m }, b.f_aux, b.W_dec, b.ehat),
        op(
          'aux_resid',
          k('aux_resid', auxResidCode),
          [P, b.x, b.xhat, b.ehat, b.rowflags, b.state, b.aux_rows],
          N,
        ),
      );
    this.backwardOps.push(
      gemm(device, 'sae.grad_f', design, { layout: 'NT', M: N, N: m, K: d }, b.g_xhat, b.W_dec, b.g),
      op(
        'feature_grad',
        k('feature_grad', featureGradCode, { ARCH: arch }),
        [P, b.f, b.g, b.pre, b.log_threshold, b.rowflags, b.state, b.row_stats],
        N,
      ),
    );
    if (aux)
      this.backwardOps.push(
        // g_ê·W_decᵀ into `pre` (free for TopK once both selections are done), then masked into g_pre.
        gemm(device, 'sae.aux_grad_f', design, { layout: 'NT', M: N, N: m, K: d }, b.ehat, b.W_dec, b.pre),
        op('aux_add', k('aux_add', auxAddCode), [P, b.f_aux, b.pre, b.g], Math.ceil((N * m) / 256)),
      );
    this.backwardOps.push(
      gemm(device, 'sae.grad_W_dec', design, { layout: 'TN', M: m, N: d, K: N }, b.f, b.g_xhat, b.grad_W_dec),
    );
    if (aux)
      this.backwardOps.push(
        gemm(
          device,
          'sae.aux_grad_W_dec',
          design,
          { layout: 'TN', M: m, N: d, K: N, accumulate: true },
          b.f_aux,
          b.ehat,
          b.grad_W_dec,
        ),
      );
    this.backwardOps.push(
      gemm(device, 'sae.grad_W_enc', design, { layout: 'TN', M: d, N: m, K: N }, b.xc, b.g, b.grad_W_enc),
      op(
        'column',
        k('column', columnCode, { JUMPRELU: arch === 2 ? 1 : 0 }),
        [P, b.f, b.g, b.pre, b.grad_b_enc, b.grad_log_threshold, b.tokens_since_fired, b.counters],
        Math.ceil(m / 256),
      ),
      op('bdec_grad', k('bdec_grad', bdecCode), [P, b.g_xhat, b.W_enc, b.grad_b_enc, b.grad_b_dec], d),
      op('dec_project', k('dec_project', projectCode), [P, b.W_dec, b.grad_W_dec], m),
    );
    PARAM_NAMES.forEach((name, slot) => {
      if (!params.includes(name)) return;
      const count = sizes[name];
      const pipeline = k(`adam.${name}`, adamCode, { COUNT: count, SLOT: slot, PARTS: GRAD_PARTS });
      this.backwardOps.push(
        op(
          `adam.${name}`,
          pipeline,
          [P, b[name], b[`grad_${name}`], b[`adam_m_${name}`], b[`adam_v_${name}`], b.partials, b.counters],
          Math.min(GRAD_PARTS, Math.ceil(count / 256)),
        ),
      );
    });
    this.backwardOps.push(
      op('dec_renorm', k('dec_renorm', renormCode), [P, b.W_dec], m),
      op(
        'finalize',
        k('finalize', finalizeCode),
        [P, b.row_stats, b.partials, b.state, b.counters, b.metrics, b.aux_rows],
        1,
      ),
    );
  }

  private static run(pass: GPUComputePassEncoder, ops: (Dispatch | GemmOp)[]) {
    for (const o of ops) {
      if (o instanceof GemmOp) o.record(pass);
      else {
        pass.setPipeline(o.pipeline);
        pass.setBindGroup(0, o.bind);
        pass.dispatchWorkgroups(o.wg[0], o.wg[1]);
      }
    }
  }

  recordForward(pass: GPUComputePassEncoder): void {
    SaePasses.run(pass, this.forwardOps);
  }

  recordTrainStep(pass: GPUComputePassEncoder): void {
    SaePasses.run(pass, this.forwardOps);
    SaePasses.run(pass, this.backwardOps);
  }

  destroy(): void {
    for (const g of this.gemms) g.destroy();
  }
}
