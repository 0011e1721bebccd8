// The dispatch list of one SAE training step, written out in full so that two versions of the GPU code can
// be compared: `node scripts/run-ts.mjs bench/dispatchTrace.ts [--out FILE]`. For each case (architecture ×
// GEMM design × whole or split buffers) it records the step into a pass that writes down, per dispatch,
// the pipeline's label, the workgroup counts and every bind-group entry (binding → buffer label, the
// buffer's first-use index, offset, size). A refactor that claims "same dispatches" must leave this
// output byte-identical (diff the files of the two checkouts). Nothing runs on the GPU except creation.
import { writeFileSync } from 'node:fs';
import { nodeGpu } from './nodeGpu';
import { requestGpu } from '../src/gpu/device';
import type { GemmDesign } from '../src/gpu/gemm';
import { DEFAULT_CONFIG, type Architecture, type TrainConfig } from '../src/sae/config';
import { planChunks } from '../src/sae/gpu/chunks';
import { allocateSaeBuffers } from '../src/sae/gpu/saeBuffers';
import { SaePasses } from '../src/sae/gpu/saePasses';

interface Case {
  architecture: Architecture;
  design: GemmDesign;
  products: 'auto' | 'dense';
  /** maxStorageBufferBindingSize for the chunk plan (16 000 bytes splits d_sae 400 into 3 × 2 blocks). */
  bindLimit: number;
}

const CASES: Case[] = (['relu', 'topk', 'jumprelu'] as const).flatMap((architecture) =>
  (['blocked', 'tiled'] as const).flatMap((design) =>
    [1 << 30, 16000].flatMap((bindLimit) =>
      (architecture === 'topk' ? (['auto', 'dense'] as const) : (['auto'] as const)).map((products) => ({
        architecture,
        design,
        products,
        bindLimit,
      })),
    ),
  ),
);

export async function main(argv: string[]): Promise<number> {
  const outAt = argv.indexOf('--out');
  const ctx = await requestGpu(await nodeGpu(), 'TempoSAE-dispatchTrace');
  const device = ctx.device;
  const lines: string[] = [];
  // Bind groups are recorded as they are made (their entries are not readable afterwards); buffers are
  // numbered in the order the step's dispatches first bind them (not the order they were made in).
  const groups = new WeakMap<GPUBindGroup, { label: string; entries: [number, GPUBufferBinding][] }>();
  let ids = new Map<GPUBuffer, number>();
  const idOf = (b: GPUBuffer) => {
    if (!ids.has(b)) ids.set(b, ids.size);
    return ids.get(b)!;
  };
  const create = device.createBindGroup.bind(device);
  device.createBindGroup = (desc: GPUBindGroupDescriptor) => {
    const g = create(desc);
    const entries = [...desc.entries]
      .sort((a, b) => a.binding - b.binding)
      .map((e) => [e.binding, e.resource as GPUBufferBinding] as [number, GPUBufferBinding]);
    groups.set(g, { label: desc.label ?? '', entries });
    return g;
  };
  const describe = (g: GPUBindGroup) => {
    const d = groups.get(g);
    if (!d) return '?';
    const entries = d.entries.map(
      ([i, r]) => `${i}=${r.buffer.label}#${idOf(r.buffer)}@${r.offset ?? 0}+${r.size ?? 'all'}`,
    );
    return `${d.label} [${entries.join(' ')}]`;
  };
  for (const c of CASES) {
    ids = new Map();
    const cfg: TrainConfig = {
      ...DEFAULT_CONFIG,
      architecture: c.architecture,
      d_in: 16,
      d_sae: 400,
      k: 8,
      seqs_per_batch: 3,
      context_size: 8,
      temporal_coefficient: 0.3,
    };
    const chunks = planChunks(cfg, c.bindLimit);
    if ('error' in chunks) throw new Error(chunks.error);
    const { buffers, all } = allocateSaeBuffers(device, cfg, chunks, false);
    const passes = new SaePasses(device, cfg, buffers, c.design, chunks, c.products);
    lines.push(
      `# ${c.architecture} ${c.design} ${c.products} ${chunks.rowBlocks.length}×${chunks.featBlocks.length} blocks`,
    );
    let pipeline = '';
    let group = '';
    const pass = {
      setPipeline: (p: GPUComputePipeline) => (pipeline = p.label),
      setBindGroup: (_i: number, g: GPUBindGroup) => (group = describe(g)),
      dispatchWorkgroups: (x: number, y = 1, z = 1) => lines.push(`${pipeline} ${x}×${y}×${z} ${group}`),
    } as unknown as GPUComputePassEncoder;
    passes.recordTrainStep(pass);
    passes.destroy();
    for (const b of all) b.destroy();
  }
  const text = lines.join('\n') + '\n';
  if (outAt >= 0) writeFileSync(argv[outAt + 1], text);
  else process.stdout.write(text);
  console.error(`${CASES.length} cases, ${lines.length - CASES.length} dispatches`);
  return 0;
}
