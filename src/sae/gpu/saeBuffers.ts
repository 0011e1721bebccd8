// Allocates the trainer's typed buffer set (SaeBufferSet, bufferSpecs.ts) once, with labels `sae.<name>`,
// and indexes it by logical name for the few callers that address buffers by name (readRaw in tests,
// checkpoint tensors): passes take their buffers from the typed fields, never by name.
import { createStorageBuffer, createUniformBuffer } from '../../gpu/buffers';
import type { TrainConfig } from '../config';
import { mapSet, saeBufferLayout, type SaeBufferSet } from './bufferSpecs';
import type { ChunkPlan } from './chunks';
import { PARAM_NAMES } from './layout';

export type SaeBuffers = SaeBufferSet<GPUBuffer>;

/** How a logical buffer's blocks make up the whole (read/write in the trainer). */
export type BlockLayout = 'single' | 'rows' | 'featRows' | 'featCols';

export interface LogicalBuffer {
  blocks: GPUBuffer[];
  /** single: one buffer; rows: row blocks ([rows, m]); featRows: W_dec-shaped ([feats, d] blocks);
   * featCols: W_enc-shaped ([d, feats] blocks, columns of the whole). */
  layout: BlockLayout;
}

/**
 * Logical names (`W_enc`, `grad_W_dec`, `adam_m_b_enc`, `snapshot_state`, `pre`, …) of the buffers of a
 * set, as the CPU side speaks of them.
 */
export function logicalBuffers(b: SaeBuffers): Map<string, LogicalBuffer> {
  const out = new Map<string, LogicalBuffer>();
  const one = (name: string, buf: GPUBuffer | null | undefined) => {
    if (buf) out.set(name, { blocks: [buf], layout: 'single' });
  };
  for (const name of ['x', 'rowflags', 'xc', 'xhat', 'g_xhat', 'aux_rows', 'ehat'] as const)
    one(name, b[name]);
  for (const name of ['tokens_since_fired', 'row_stats', 'state', 'partials', 'counters', 'metrics'] as const)
    one(name, b[name]);
  one('snapshot_tokens_since_fired', b.snapshot?.tokens_since_fired);
  one('snapshot_state', b.snapshot?.state);
  one('btk_sel', b.btk?.sel);
  one('btk_row_ties', b.btk?.row_ties);
  for (const name of ['pre', 'f', 'g', 'f_aux'] as const) {
    const blocks = b[name];
    if (blocks) out.set(name, { blocks, layout: 'rows' });
  }
  for (const p of PARAM_NAMES) {
    const set = b.param[p];
    const layout: BlockLayout = p === 'W_enc' ? 'featCols' : p === 'W_dec' ? 'featRows' : 'single';
    const roles = [
      ['', set.value],
      ['grad_', set.grad],
      ['adam_m_', set.adam_m],
      ['adam_v_', set.adam_v],
      ['snapshot_', set.snapshot],
      ['snapshot_m_', set.snapshot_m],
      ['snapshot_v_', set.snapshot_v],
    ] as const;
    for (const [prefix, blocks] of roles) if (blocks) out.set(`${prefix}${p}`, { blocks, layout });
  }
  return out;
}

export function allocateSaeBuffers(
  device: GPUDevice,
  cfg: TrainConfig,
  chunks: ChunkPlan,
  snapshots = true,
): { buffers: SaeBuffers; all: GPUBuffer[]; bytes: number } {
  const all: GPUBuffer[] = [];
  const buffers = mapSet(saeBufferLayout(cfg, chunks, snapshots), (s) => {
    const label = `sae.${s.name}`;
    const buf =
      s.kind === 'uniform'
        ? createUniformBuffer(device, label, s.bytes)
        : s.kind === 'staging'
          ? device.createBuffer({
              label,
              size: s.bytes,
              usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
            })
          : createStorageBuffer(device, label, s.bytes);
    all.push(buf);
    return buf;
  });
  return { buffers, all, bytes: all.reduce((a, x) => a + x.size, 0) };
}
