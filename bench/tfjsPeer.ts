// The bench's peer: the same adaptive temporal SAE training step (SPEC §3–5, ReLU) written with
// TensorFlow.js on its WebGPU backend — forward with tf ops, backward by tf.variableGrads (autodiff),
// decoder-row gradient projection, tf.train.adam, row renormalization — so `npm run bench` can say how
// our hand-written WGSL trainer compares with what a researcher would get from an off-the-shelf library
// on the SAME adapter. The maths must equal the CPU reference's (test/unit/benchPeer.test.ts checks the
// losses), or the comparison would flatter one side.
//
// Two places where tf.js's defaults differ from SPEC §5 and are replaced:
//  - tf.abs's gradient is step(x, −1), i.e. −1 at x = 0; SPEC says sign(0) = 0. `absSign` follows SPEC.
//    (For ReLU the two only differ where D_n = 0 on an active feature, i.e. equal pre-activations, and
//    there the ±1 terms cancel in every parameter gradient; we follow SPEC anyway.)
//  - α must be a coefficient, not a gradient path (SPEC §4): it is computed from a stop-gradient copy of
//    L_recon.
// Supported: architecture 'relu', recon 'squared'/'norm', seq_start_mode 'zero'/'skip', lmax 'max'/'ema',
// alpha 'absolute'/'relative', constant learning rate without warmup, batches without padding. Anything
// else is refused with a message rather than benchmarked as something it is not.
import type * as TF from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../src/sae/config';
import type { SaeWeights } from '../src/sae/types';
import type { ActivationBatch } from '../src/data/types';

/** Loss terms of the most recent step, as SPEC §4 defines them (α and L_max after this step's update). */
export interface PeerLosses {
  l_recon: number;
  l_sparse: number;
  l_temp: number;
  alpha: number;
  l_max: number;
  loss: number;
}

export interface TfjsPeer {
  /** The adapter tf.js's device was created on (vendor/architecture as tf.js reports them). */
  readonly adapter: { vendor: string; architecture: string; device: string; description: string };
  readonly version: string;
  /** Enqueue one training step on `batch` (uploads it, as our trainer does). Does not wait for the GPU. */
  step(batch: ActivationBatch): void;
  /** Losses of the most recent step; awaiting it waits for the GPU to finish that step. */
  readLosses(): Promise<PeerLosses>;
  getWeights(): Promise<SaeWeights>;
  /** Bytes of GPU buffers tf.js's buffer pool holds (weights, Adam moments and reused intermediates). */
  gpuBytes(): number;
  dispose(): void;
}

/** Options of `cfg` that the peer implements; the others are refused. */
export function peerUnsupported(cfg: TrainConfig): string[] {
  const p: string[] = [];
  if (cfg.architecture !== 'relu') p.push(`architecture '${cfg.architecture}' (the peer is ReLU only)`);
  if (cfg.lr_warm_up_steps !== 0 || cfg.lr_schedule !== 'constant')
    p.push('learning-rate warmup or schedule (the peer uses a constant rate)');
  if (cfg.normalize_activations !== 'none') p.push('input normalization');
  return p;
}

type Tf = typeof TF;
let tfReady: Promise<Tf> | undefined;
let peerCount = 0;

/** Load tf.js and make a WebGPU backend whose device comes from `gpu` (Dawn in Node, navigator.gpu in a page). */
function loadTf(gpu: GPU): Promise<Tf> {
  tfReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    // tf.js registers its kernels under the name 'webgpu', so our backend must use that name. The
    // package registers its own factory (from navigator.gpu) when it sees one: replace it so the device
    // comes from the GPU object we were given, the same one our trainer uses.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend(
      'webgpu',
      async () => {
        const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!adapter) throw new Error('tf.js peer: no WebGPU adapter');
        const l = adapter.limits;
        const device = await adapter.requestDevice({
          label: 'TempoSAE-bench-tfjs',
          requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
          // The limits tf.js's own factory asks for (tfjs-backend-webgpu/src/base.ts).
          requiredLimits: {
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
            maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
            maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
            maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          },
        });
        peerAdapterInfo = adapter.info;
        return new WebGPUBackend(device, adapter.info);
      },
      3,
    );
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.js peer: the WebGPU backend did not start');
    await tf.ready();
    return tf;
  })();
  return tfReady;
}
let peerAdapterInfo: GPUAdapterInfo | undefined;

export async function createTfjsPeer(gpu: GPU, cfg: TrainConfig, init: SaeWeights): Promise<TfjsPeer> {
  const refused = peerUnsupported(cfg);
  if (refused.length) throw new Error(`tf.js peer does not implement: ${refused.join('; ')}`);
  const tf = await loadTf(gpu);
  if (!tf.getGradient('BatchMatMul'))
    throw new Error(
      'tf.js gradients are not registered: in Node call registerTfjsGradients() (bench/tfjsNode.ts) first; ' +
        "in a bundle import '@tensorflow/tfjs-core/dist/register_all_gradients'",
    );
  const { d_in: d, d_sae: m } = init;
  // Variable names are global in tf.js's engine: make them unique per peer.
  const id = `peer${peerCount++}`;
  const W_enc = tf.variable(tf.tensor2d(init.W_enc, [d, m]), true, `${id}/W_enc`);
  const b_enc = tf.variable(tf.tensor1d(init.b_enc), true, `${id}/b_enc`);
  const W_dec = tf.variable(tf.tensor2d(init.W_dec, [m, d]), true, `${id}/W_dec`);
  const b_dec = tf.variable(tf.tensor1d(init.b_dec), true, `${id}/b_dec`);
  const params = [W_enc, b_enc, W_dec, b_dec];
  // tf.js's Adam is bias-corrected with ε outside the square root, as SPEC §5 asks.
  const adam = tf.train.adam(cfg.lr, cfg.adam_beta1, cfg.adam_beta2, cfg.adam_eps);
  const lMax = tf.variable(tf.scalar(0), false, `${id}/l_max`);
  let firstStep = true;
  let last: TF.Tensor1D | undefined;

  // |x| whose gradient is sign(x) with sign(0) = 0 (SPEC §5), unlike tf.abs's.
  const absSign = tf.customGrad((...args: (TF.Tensor | TF.GradSaveFunc)[]) => {
    const x = args[0] as TF.Tensor;
    (args[1] as TF.GradSaveFunc)([x]);
    return {
      value: tf.abs(x),
      gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => tf.mul(dy, tf.sign(saved[0])),
    };
  });
  // The identity in the forward pass and zero in the backward one: α is a coefficient (SPEC §4).
  const stopGradient = tf.customGrad((...args: (TF.Tensor | TF.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as TF.Tensor),
    gradFunc: (dy: TF.Tensor) => tf.zerosLike(dy),
  }));

  function step(batch: ActivationBatch): void {
    const N = batch.S * batch.T;
    if (batch.d !== d) throw new Error(`tf.js peer: batch width ${batch.d} ≠ d_in ${d}`);
    if (batch.valid.some((v) => v === 0))
      throw new Error('tf.js peer: batches with padding are not supported');
    const metrics = tf.tidy(() => {
      // x [N,d]; keep[n] = 1 − start(n) as [N,1] (start includes t = 0 and document starts).
      const x = tf.tensor2d(batch.x, [N, d]);
      const keep = tf.tensor2d(
        Float32Array.from(batch.start, (s) => 1 - s),
        [N, 1],
      );
      let packed: TF.Tensor1D | undefined;
      const lossFn = (): TF.Scalar => {
        const pre = tf.add(tf.matMul(tf.sub(x, b_dec), W_enc), b_enc); // [N,m]
        const f = tf.relu(pre); // [N,m]
        const xhat = tf.add(tf.matMul(f, W_dec), b_dec); // [N,d]
        const rowSq = tf.sum(tf.square(tf.sub(x, xhat)), 1); // [N] ‖x_n − x̂_n‖²
        const lRecon = tf.div(tf.sum(cfg.recon_loss === 'squared' ? rowSq : tf.sqrt(rowSq)), N);
        const lSparse = tf.div(tf.sum(absSign(f)), N);
        // f_prev(n) = f(n−1) by flat row; at start(n) (which includes every t = 0, so rows never leak
        // across sequences) 'zero' compares with 0 and 'skip' drops the pair.
        const fPrev = tf.concat([tf.zeros([1, m]), tf.slice(f, [0, 0], [N - 1, m])], 0);
        const absD =
          cfg.seq_start_mode === 'zero'
            ? absSign(tf.sub(f, tf.mul(fPrev, keep)))
            : tf.mul(absSign(tf.sub(f, fPrev)), keep);
        const lTemp = tf.div(tf.sum(absD), N);
        // L_max update then α, from a stop-gradient copy of L_recon (SPEC §4).
        const r = stopGradient(lRecon);
        const mu = cfg.lmax_momentum;
        const moved = tf.add(tf.mul(lMax, mu), tf.mul(r, 1 - mu));
        const lMaxNew = firstStep ? r : cfg.lmax_mode === 'max' ? tf.maximum(r, moved) : moved;
        const gap = tf.sub(lMaxNew, r);
        const alpha = tf.sigmoid(
          tf.mul(cfg.alpha_mode === 'absolute' ? gap : tf.div(gap, lMaxNew), cfg.alpha_beta),
        );
        const loss = tf.add(
          tf.add(lRecon, tf.mul(lSparse, cfg.l1_coefficient)),
          tf.mul(tf.mul(alpha, lTemp), cfg.temporal_coefficient),
        ) as TF.Scalar;
        packed = tf.keep(tf.stack([lRecon, lSparse, lTemp, alpha, lMaxNew, loss]) as TF.Tensor1D);
        return loss;
      };
      const { grads } = tf.variableGrads(lossFn, params);
      // Decoder rows stay unit norm (SPEC §3): drop each row's gradient component along the row …
      const gDec = grads[W_dec.name];
      grads[W_dec.name] = tf.sub(gDec, tf.mul(tf.sum(tf.mul(gDec, W_dec), 1, true), W_dec));
      adam.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      // … and renormalize after the step.
      W_dec.assign(tf.div(W_dec, tf.norm(W_dec, 'euclidean', 1, true)));
      lMax.assign(tf.reshape(tf.slice(packed!, [4], [1]), []));
      return packed!;
    });
    firstStep = false;
    last?.dispose();
    last = metrics;
  }

  async function readLosses(): Promise<PeerLosses> {
    if (!last) throw new Error('tf.js peer: no step has run yet');
    const v = await last.data();
    return { l_recon: v[0], l_sparse: v[1], l_temp: v[2], alpha: v[3], l_max: v[4], loss: v[5] };
  }

  async function getWeights(): Promise<SaeWeights> {
    const [we, be, wd, bd] = await Promise.all(params.map((p) => p.data()));
    return {
      d_in: d,
      d_sae: m,
      W_enc: we as Float32Array,
      b_enc: be as Float32Array,
      W_dec: wd as Float32Array,
      b_dec: bd as Float32Array,
    };
  }

  const info = peerAdapterInfo;
  return {
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
    },
    version: tf.version_core,
    step,
    readLosses,
    getWeights,
    gpuBytes: () =>
      (tf.memory() as unknown as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? 0,
    dispose() {
      last?.dispose();
      for (const p of [...params, lMax]) p.dispose();
      adam.dispose();
    },
  };
}
