// What the engine needs where it runs in a dedicated Worker (src/app/engineWorker.ts): its own GPU device
// (WebGPU is available in workers), the data opened here from the page's descriptors (the built-in
// generator; the dropped files, read and decoded here; page-made data read from the page), trainers on
// that device, and a yield that lets the page's commands in between steps.
import { adapterName, requestGpu, type GpuContext } from '../gpu/device';
import { blobByteSource } from '../data/byteSource';
import { openDataset } from '../data/dataset';
import { opfsScratch } from '../data/opfsScratch';
import { createSyntheticSource, syntheticConfig } from '../data/synthetic';
import type { ActivationSource } from '../data/types';
import type { BatcherState } from '../data/batcher';
import { initWeights } from '../sae/init';
import { openRunBatcher } from '../sae/runBatcher';
import { createTrainer } from '../sae/trainer';
import type { CheckpointFiles, EngineDeps, EngineHost } from './engineHost';
import type { DataDescriptor } from './protocol';

/** Yield to the event loop without setTimeout's 4 ms clamp: a message posted to ourselves. */
export function messageYielder(): () => Promise<void> {
  const ch = new MessageChannel();
  const waiting: (() => void)[] = [];
  ch.port1.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      ch.port2.postMessage(0);
    });
}

/** A page-made dataset whose sequences the page reads for us ('read' requests). */
function pageSource(host: () => EngineHost, dataKey: string, d: Extract<DataDescriptor, { kind: 'page' }>) {
  const src: ActivationSource = {
    name: d.name,
    numSequences: d.numSequences,
    seqLen: d.seqLen,
    d: d.d,
    dtype: d.dtype,
    hasTokenIds: d.hasTokenIds,
    readSequences: (indices) => host().request('read', { dataKey, indices }),
  };
  if (d.windows) src.readWindows = (windows, length) => host().request('read', { dataKey, windows, length });
  return src;
}

async function openDescriptor(
  host: () => EngineHost,
  dataKey: string,
  d: DataDescriptor,
): Promise<ActivationSource> {
  switch (d.kind) {
    case 'builtin':
      return createSyntheticSource(syntheticConfig(d.preset, d.seed));
    case 'files':
      return openDataset(
        d.files.map((f) => blobByteSource(f.file, f.path)),
        {
          folderName: d.folderName,
          flatSeqLen: d.flatSeqLen,
          // A compressed member the page inflated into a scratch file is read from that file here.
          scratch: await opfsScratch(),
          maxInflateBytes: d.maxInflateBytes,
        },
      );
    case 'page':
      return pageSource(host, dataKey, d);
  }
}

/** `files`: the worker's own checkpoint files (OPFS sync access handles; src/app/engineWorker.ts). */
export function workerDeps(
  host: () => EngineHost,
  gpuApi: GPU | undefined,
  files?: CheckpointFiles,
): EngineDeps {
  const descriptors = new Map<string, DataDescriptor>();
  const sources = new Map<string, Promise<ActivationSource>>();
  let gpu: Promise<GpuContext> | null = null;
  let ctx: GpuContext | null = null;
  const device = (): Promise<GpuContext> => {
    if (!gpu) {
      gpu = requestGpu(gpuApi, 'TempoSAE engine').then((c) => {
        ctx = c;
        c.onFault((f) => {
          if (f.kind === 'lost') {
            if (ctx === c) {
              gpu = null; // the next trainer gets a fresh device
              ctx = null;
            }
            host().deviceFault('lost', f.reason, f.message);
          } else host().deviceFault('error', f.errorType, f.message);
        });
        return c;
      });
      gpu.catch(() => (gpu = null));
    }
    return gpu;
  };
  const source = (key: string): Promise<ActivationSource> => {
    let s = sources.get(key);
    if (!s) {
      const d = descriptors.get(key);
      if (!d)
        throw new Error(
          'The data this run was made with is no longer loaded; load it again and reset the run.',
        );
      s = openDescriptor(host, key, d);
      s.catch(() => sources.delete(key));
      sources.set(key, s);
    }
    return s;
  };
  return {
    kind: 'worker',
    async hello() {
      try {
        return { adapter: adapterName((await device()).adapter) };
      } catch (e) {
        return { adapter: null, reason: e instanceof Error ? e.message : String(e) };
      }
    },
    registerData(key, d) {
      descriptors.set(key, d);
      sources.delete(key);
    },
    async openData(key, cfg, position) {
      const src = await source(key);
      if (src.d !== cfg.d_in) throw new Error(`The data is ${src.d} wide but the run's d_in is ${cfg.d_in}.`);
      const batcher = await openRunBatcher(src, cfg, position as BatcherState | undefined);
      return { batcher, next: () => batcher.next() };
    },
    async createTrainer(cfg, from) {
      const g = await device();
      if ('firstBatch' in from) return createTrainer(g, cfg, initWeights(cfg, from.firstBatch));
      return createTrainer(g, cfg, 'state' in from ? from.state : null);
    },
    yieldToHost: messageYielder(),
    now: () => performance.now(),
    destroyDevice: () => ctx?.device.destroy(),
    files,
  };
}
