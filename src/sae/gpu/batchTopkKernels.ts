// The BatchTopK kernels (shaders/batchtopk_*.wgsl) outside a trainer: the same stage builder the trainer
// records (passes/activation.ts batchTopkPasses) on buffers made here from plain arrays, possibly split
// into row blocks, then f, the select state and θ read back. For the parity test against the CPU twin
// (src/sae/twins/batchTopk.ts, test/gpu/batchTopk.test.ts).
import {
  createBufferWithData,
  createStorageBuffer,
  createUniformBuffer,
  readBuffer,
  readFloat32,
} from '../../gpu/buffers';
import { DEFAULT_CONFIG, type TrainConfig } from '../config';
import type { ChunkPlan } from './chunks';
import { packParams, packRowFlags, PARAMS_BYTES, STATE, STATE_FLOATS } from './layout';
import { batchTopkPasses } from './passes/activation';
import { PassContext } from './passes/context';
import type { SaeBuffers } from './saeBuffers';

export interface BatchTopkRun {
  /** [N, m] pre-activations. */
  pre: Float32Array;
  /** [N] 1 for a real token. */
  valid: ArrayLike<number>;
  N: number;
  m: number;
  /** Mean active features per valid token. */
  k: number;
  /** θ before the step. */
  theta: number;
  /** topk_threshold_lr. */
  lr: number;
  /** Rows of each row block (whole batch in one block when absent); they must add up to N. */
  blocks?: number[];
  /** 'blocked' (the trainer's SwiftShader choice) or 'tiled' (its workgroup sizes for real GPUs). */
  design?: 'blocked' | 'tiled';
}

/** BatchTopK training select of one batch: f [N, m], the select state [8] and θ after the step. */
export async function runBatchTopk(
  device: GPUDevice,
  a: BatchTopkRun,
): Promise<{ f: Float32Array; sel: Uint32Array; theta: number; inferF: Float32Array }> {
  const { N, m } = a;
  const rows = a.blocks ?? [N];
  if (rows.reduce((x, y) => x + y, 0) !== N)
    throw new Error(`runBatchTopk: blocks ${rows} do not add up to N=${N}`);
  const cfg: TrainConfig = {
    ...DEFAULT_CONFIG,
    architecture: 'batchtopk',
    d_in: 1,
    d_sae: m,
    k: a.k,
    topk_threshold_lr: a.lr,
    seqs_per_batch: N,
    context_size: 1,
  };
  let row0 = 0;
  const chunks: ChunkPlan = {
    rowBlocks: rows.map((r) => ({ row0: (row0 += r) - r, rows: r })),
    featBlocks: [{ feat0: 0, feats: m }],
  };
  const flags = new Uint32Array(N);
  const nValid = packRowFlags(
    new Uint8Array(N),
    Uint8Array.from(a.valid, (v) => (v ? 1 : 0)),
    flags,
  );
  const state = new Float32Array(STATE_FLOATS);
  state[STATE.topk_threshold] = a.theta;
  const owned: GPUBuffer[] = [];
  const buf = (label: string, data: ArrayBufferView | number) => {
    const b =
      typeof data === 'number'
        ? createStorageBuffer(device, `btk.${label}`, data)
        : createBufferWithData(device, `btk.${label}`, data);
    owned.push(b);
    return b;
  };
  const uniform = createUniformBuffer(device, 'btk.params', PARAMS_BYTES);
  owned.push(uniform);
  device.queue.writeBuffer(uniform, 0, packParams(cfg, { N, T: 1, nValid, lr: 0, step: 1 }));
  const pre = chunks.rowBlocks.map((r, i) => buf(`pre${i}`, a.pre.slice(r.row0 * m, (r.row0 + r.rows) * m)));
  const f = chunks.rowBlocks.map((r, i) => buf(`f${i}`, r.rows * m * 4));
  const b = {
    pre,
    f,
    rowflags: buf('rowflags', flags),
    state: buf('state', state),
    uniform,
    btk: { sel: buf('sel', 32), hist: buf('hist', 1024), row_ties: buf('row_ties', N * 4) },
  } as unknown as SaeBuffers; // only what the BatchTopK passes bind
  const c = new PassContext(device, cfg, b, a.design ?? 'blocked', chunks);
  const stage = batchTopkPasses(c);
  const record = (ops: { record(p: GPUComputePassEncoder): void }[]) => {
    const enc = device.createCommandEncoder({ label: 'btk' });
    const pass = enc.beginComputePass({ label: 'btk' });
    for (const o of ops) o.record(pass);
    pass.end();
    device.queue.submit([enc.finish()]);
  };
  record([...stage.batch, ...rows.flatMap((_, ri) => stage.block(ri))]);
  const join = async (bufs: GPUBuffer[]) => {
    const out = new Float32Array(N * m);
    let o = 0;
    for (const x of bufs) {
      const v = await readFloat32(device, x);
      out.set(v, o);
      o += v.length;
    }
    return out;
  };
  const fOut = await join(f);
  const sel = new Uint32Array(await readBuffer(device, b.btk!.sel));
  const theta = (await readFloat32(device, b.state))[STATE.topk_threshold];
  // The inference pass with the updated θ.
  record(rows.flatMap((_, ri) => stage.infer(ri)));
  const inferF = await join(f);
  c.destroy();
  for (const x of owned) x.destroy();
  return { f: fOut, sel, theta, inferF };
}
