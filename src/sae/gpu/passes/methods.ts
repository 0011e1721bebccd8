// What the trainer needs for the Matryoshka and T-SAE loss kernels (shaders/matryoshka_*.wgsl,
// infonce_*.wgsl; their runners and packers: ../methodKernels.ts) besides the dispatches recorded in
// losses.ts and backward.ts:
//   - their pipelines, with the method structs (struct Mat, struct Nce) in front instead of Params;
//   - the per-batch uniforms and pair lists, written when a batch is uploaded (MethodBatchWriter): the
//     Mat uniform carries the batch's valid-token count, the InfoNCE pairs are the batch's valid adjacent
//     tokens (n−1, n) of one document (the reference's hasPrev, src/sae/reference/tokens.ts), P ≤ N;
//   - the configs they refuse: the kernels read f [N, d_sae] and W_dec [d_sae, d] as one buffer each, so
//     a config whose batch or dictionary the binding limit splits into blocks (src/sae/gpu/chunks.ts)
//     is refused with the sizes, before anything is allocated.
import { createNamedKernel, type NamedKernel } from '../../../gpu/kernel';
import { architectureOf } from '../../architectures';
import type { ContrastivePlan, MatryoshkaPlan } from '../../architectures/types';
import { tokensPerStep, type TrainConfig } from '../../config';
import { NO_PAIR } from '../../twins/infonce';
import type { SaeBuffers } from '../saeBuffers';
import type { ChunkPlan } from '../chunks';
import { packMat, packNce, withMethodStructs } from '../methodKernels';

/** Invocations per workgroup of the method kernels (one invocation per output element, no barriers). */
export const METHOD_WG = 64;

/** A method kernel's pipeline with its declared binding names (bound by name through PassContext.dispatch). */
export function methodKernel(device: GPUDevice, label: string, code: string): NamedKernel {
  return createNamedKernel(device, {
    label: `sae.${label}`,
    code: withMethodStructs(code),
    constants: code.includes('override WG') ? { WG: METHOD_WG } : {},
  });
}

/** The config's Matryoshka and contrastive plans (null where the architecture has none). */
export function methodPlans(cfg: TrainConfig): {
  mat: MatryoshkaPlan | null;
  nce: ContrastivePlan | null;
} {
  const gpu = architectureOf(cfg).gpu;
  return { mat: gpu.matryoshka?.(cfg) ?? null, nce: gpu.contrastive?.(cfg) ?? null };
}

/**
 * finalize.wgsl's overrides: MAT_G prefixes with c_g = w_g/G (the config's matryoshka_weights) and the
 * contrastive coefficient; all 0 for architectures without them.
 */
export function finalizeConstants(cfg: TrainConfig): Record<string, number> {
  const { mat, nce } = methodPlans(cfg);
  const out: Record<string, number> = { MAT_G: mat?.ends.length ?? 0, NCE_COEF: nce?.coefficient ?? 0 };
  mat?.weights.forEach((w, g) => (out[`MAT_C${g}`] = w / mat.ends.length));
  return out;
}

/** Why this config cannot run the method kernels with this chunk plan, or null. */
export function methodChunkRefusal(cfg: TrainConfig, chunks: ChunkPlan): string | null {
  const { mat } = methodPlans(cfg);
  if (!mat || (chunks.rowBlocks.length === 1 && chunks.featBlocks.length === 1)) return null;
  const N = tokensPerStep(cfg);
  const a = architectureOf(cfg);
  return (
    `${a.name}: the Matryoshka loss kernels read the batch’s f ([${N}, ${cfg.d_sae}], ${N * cfg.d_sae * 4} bytes) ` +
    `and W_dec ([${cfg.d_sae}, ${cfg.d_in}], ${cfg.d_sae * cfg.d_in * 4} bytes) as one buffer each, but the ` +
    `adapter’s binding limit splits them into ${chunks.rowBlocks.length} row block(s) and ` +
    `${chunks.featBlocks.length} feature block(s). Reduce seqs_per_batch × context_size or d_sae.`
  );
}

/** Writes the method kernels' per-batch inputs (uniforms, pair lists); arrays allocated once. */
export class MethodBatchWriter {
  private readonly N: number;
  private readonly mat: MatryoshkaPlan | null;
  private readonly nce: ContrastivePlan | null;
  private readonly matBytes = new ArrayBuffer(96);
  private readonly nceBytes = new ArrayBuffer(32);
  private readonly pairs: Uint32Array<ArrayBuffer>;
  private readonly role: Uint32Array<ArrayBuffer>;

  constructor(
    private readonly device: GPUDevice,
    private readonly cfg: TrainConfig,
    private readonly b: SaeBuffers,
  ) {
    this.N = tokensPerStep(cfg);
    ({ mat: this.mat, nce: this.nce } = methodPlans(cfg));
    this.pairs = new Uint32Array(this.nce ? 2 * this.N : 0);
    this.role = new Uint32Array(this.nce ? 2 * this.N : 0);
  }

  /** `rowflags` as the trainer packs them (bit 0 start, bit 1 valid), T positions per sequence. */
  write(rowflags: Uint32Array, nValid: number, T: number): void {
    const { N, cfg, device } = this;
    const q = device.queue;
    if (this.mat && this.b.mat) {
      const { ends, weights } = this.mat;
      packMat({ N, d: cfg.d_in, m: cfg.d_sae, nValid, ends, weights }, this.matBytes);
      q.writeBuffer(this.b.mat.params, 0, this.matBytes);
    }
    if (this.nce && this.b.nce) {
      const valid = (n: number) => (rowflags[n] & 2) !== 0;
      // Pair p = (cur, prev): n valid, not a start, n−1 valid and in the same sequence (tokens.ts hasPrev).
      const cur: number[] = [];
      for (let n = 0; n < N; n++)
        if (valid(n) && n % T !== 0 && (rowflags[n] & 1) === 0 && valid(n - 1)) cur.push(n);
      const P = cur.length;
      this.role.fill(NO_PAIR);
      cur.forEach((n, p) => {
        this.pairs[p] = n;
        this.pairs[P + p] = n - 1;
        this.role[n] = p;
        this.role[N + n - 1] = p;
      });
      q.writeBuffer(this.b.nce.pairs, 0, this.pairs);
      q.writeBuffer(this.b.nce.role, 0, this.role);
      const { H, temperature: tau, cosine, coefficient: coef } = this.nce;
      packNce({ N, m: cfg.d_sae, H, tau, cosine, P, coef }, this.nceBytes);
      q.writeBuffer(this.b.nce.params, 0, this.nceBytes);
    }
  }
}
