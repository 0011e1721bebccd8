// Two versions of the same SAE kernels timed against each other in one process, dispatch window by
// dispatch window in alternation, so that both see the same machine load (on a shared machine a second
// process is no fair comparison): `node scripts/run-ts.mjs bench/kernelAB.ts --a DIR --b DIR
// [--kernels topk,recon,…] [--d D --d-sae M --tokens N] [--rounds R] [--inner I]`. DIR holds the .wgsl
// files (e.g. an older checkout's shaders/ against this one's), each given the current shared structs
// and WGSL library (withSaeStructs). Buffers are made from the names each kernel declares, filled with
// seeded values (30 % of the features dead, every row valid). Prints one JSON line: per kernel the
// median and best window of each version and their ratio b/a.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { nodeGpu } from './nodeGpu';
import { Rng } from '../src/data/rng';
import { requestGpu } from '../src/gpu/device';
import { bindNamed, createNamedKernel, type NamedKernel } from '../src/gpu/kernel';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/sae/config';
import { packParams, PARAMS_BYTES } from '../src/sae/gpu/layout';
import { withSaeStructs } from '../src/sae/gpu/wgsl';

/** Workgroups of one dispatch and the override constants, per kernel (as the trainer sets them on SwiftShader). */
const KERNELS: Record<string, (s: Sizes) => { wg: number; constants: Record<string, number> }> = {
  topk: (s) => ({ wg: s.N, constants: { WG: s.selectWg } }),
  auxk_select: (s) => ({ wg: s.N, constants: { WG: s.selectWg } }),
  recon: (s) => ({ wg: s.N, constants: { WG: s.rowWg } }),
  aux_resid: (s) => ({ wg: s.N, constants: { WG: s.rowWg } }),
  feature_grad: (s) => ({ wg: s.N, constants: { WG: s.rowWg, SPARSITY: 1, THRESHOLD: 0 } }),
  bdec_grad: (s) => ({ wg: s.d, constants: { WG: s.rowWg } }),
  dec_project: (s) => ({ wg: s.m, constants: { WG: s.rowWg } }),
  dec_renorm: (s) => ({ wg: s.m, constants: { WG: s.rowWg } }),
};

interface Sizes {
  N: number;
  d: number;
  m: number;
  rowWg: number;
  selectWg: number;
}

/** Floats of each binding name (the trainer's shapes, bufferSpecs.ts). */
function floatsOf(name: string, s: Sizes): number {
  const { N, d, m } = s;
  const table: Record<string, number> = {
    pre: N * m,
    f: N * m,
    f_aux: N * m,
    g: N * m,
    rowflags: N,
    tokens_since_fired: m,
    log_threshold: m,
    state: 8,
    x: N * d,
    xhat: N * d,
    ehat: N * d,
    g_xhat: N * d,
    row_stats: N * 4,
    aux_rows: N,
    W_dec: m * d,
    grad_W_dec: m * d,
    W_enc: d * m,
    grad_b_enc: m,
    grad_b_dec: d,
  };
  if (!(name in table)) throw new Error(`kernelAB: no size for binding ${name}`);
  return table[name];
}

function parse(argv: string[]) {
  const o = {
    a: '',
    b: '',
    kernels: Object.keys(KERNELS),
    d: 128,
    m: 1024,
    tokens: 512,
    rounds: 9,
    inner: 4,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--a') o.a = v;
    else if (flag === '--b') o.b = v;
    else if (flag === '--kernels') o.kernels = v.split(',');
    else if (flag === '--d') o.d = Number(v);
    else if (flag === '--d-sae') o.m = Number(v);
    else if (flag === '--tokens') o.tokens = Number(v);
    else if (flag === '--rounds') o.rounds = Number(v);
    else if (flag === '--inner') o.inner = Number(v);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!o.a || !o.b) throw new Error('kernelAB: --a DIR and --b DIR are required');
  for (const k of o.kernels) if (!KERNELS[k]) throw new Error(`kernelAB: unknown kernel ${k}`);
  return o;
}

const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];

export async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  const ctx = await requestGpu(await nodeGpu(), 'TempoSAE-kernelAB');
  const { device } = ctx;
  const tiled = !ctx.adapter.isSwiftShader;
  const s: Sizes = { N: o.tokens, d: o.d, m: o.m, rowWg: tiled ? 256 : 32, selectWg: tiled ? 256 : 4 };
  const cfg: TrainConfig = {
    ...DEFAULT_CONFIG,
    architecture: 'topk',
    k: 32,
    aux_k: 64,
    d_in: o.d,
    d_sae: o.m,
    seqs_per_batch: o.tokens / 128,
    context_size: 128,
  };
  const rng = new Rng(7, 0);
  const uniform = (bytes: number, data: ArrayBuffer) => {
    const u = device.createBuffer({ size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(u, 0, data);
    return u;
  };
  const p = uniform(PARAMS_BYTES, packParams(cfg, { N: s.N, T: 128, nValid: s.N, lr: 1e-4, step: 1 }));
  const blk = uniform(32, new Uint32Array([0, s.N, 0, s.m, 1, 1, 0, 0]).buffer);
  const storage = new Map<string, GPUBuffer>();
  const buffer = (name: string): GPUBuffer => {
    let b = storage.get(name);
    if (b) return b;
    const n = floatsOf(name, s);
    b = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const data =
      name === 'rowflags'
        ? new Uint32Array(n).fill(2)
        : name === 'tokens_since_fired'
          ? Float32Array.from({ length: n }, (_, i) => (i % 10 < 3 ? 1e9 : 0))
          : name === 'state'
            ? Float32Array.from([0, 1, 0.5, 1, 1, 0, 0, 0])
            : Float32Array.from({ length: n }, () => rng.normal());
    device.queue.writeBuffer(b, 0, data);
    storage.set(name, b);
    return b;
  };
  const build = (dir: string, name: string): { kernel: NamedKernel; bind: GPUBindGroup; wg: number } => {
    const { wg, constants } = KERNELS[name](s);
    const code = withSaeStructs(readFileSync(join(dir, `${name}.wgsl`), 'utf8'));
    const kernel = createNamedKernel(device, { label: `${dir}/${name}`, code, constants });
    const bufs: Record<string, GPUBuffer> = {};
    for (const b of kernel.bindings) bufs[b] = b === 'p' ? p : b === 'blk' ? blk : buffer(b);
    return { kernel, bind: bindNamed(device, kernel, `${name}.bind`, bufs), wg };
  };
  const time = async (k: ReturnType<typeof build>) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(k.kernel.pipeline);
    pass.setBindGroup(0, k.bind);
    for (let i = 0; i < o.inner; i++) pass.dispatchWorkgroups(k.wg);
    pass.end();
    const t = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t) / o.inner;
  };
  const out: Record<string, unknown> = {};
  for (const name of o.kernels) {
    const ka = build(o.a, name);
    const kb = build(o.b, name);
    await time(ka);
    await time(kb);
    const ta: number[] = [];
    const tb: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      // Alternate which version goes first, so neither always runs on a warmer cache.
      const order = r % 2 === 0 ? ([ka, kb] as const) : ([kb, ka] as const);
      for (const k of order) (k === ka ? ta : tb).push(await time(k));
    }
    out[name] = {
      a_median_ms: Number(median(ta).toFixed(2)),
      b_median_ms: Number(median(tb).toFixed(2)),
      a_best_ms: Number(Math.min(...ta).toFixed(2)),
      b_best_ms: Number(Math.min(...tb).toFixed(2)),
      ratio_median: Number((median(tb) / median(ta)).toFixed(3)),
      ratio_best: Number((Math.min(...tb) / Math.min(...ta)).toFixed(3)),
    };
  }
  console.log(
    JSON.stringify({
      bench: 'kernelAB',
      a: o.a,
      b: o.b,
      adapter: ctx.adapter.isSwiftShader ? 'swiftshader' : 'gpu',
      d: o.d,
      d_sae: o.m,
      tokens: o.tokens,
      rounds: o.rounds,
      inner: o.inner,
      host_load_per_core: Number((loadavg()[0] / availableParallelism()).toFixed(2)),
      kernels: out,
    }),
  );
  for (const b of [p, blk, ...storage.values()]) b.destroy();
  return 0;
}
