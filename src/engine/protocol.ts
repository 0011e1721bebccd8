// The engine's protocol: what the page asks of the run engine (Commands, each with a request id and one
// reply) and what the engine tells the page (EngineEvents: the runs' SessionEvents tagged with the run and
// its build, replies, the engine's own requests to the page, device faults). Plain data only, so every
// message crosses a Worker boundary by structured clone; large arrays the sender does not keep (checkpoint
// chunks, a parameter read back alone, batches of a capture on the page) are transferred, not copied.
//
//   page (src/app/engineClient.ts)  ──Command──▶  engine (src/engine/engineHost.ts)
//                                   ◀─EngineEvent─
//
// The engine runs in a dedicated Worker (src/app/engineWorker.ts) or, where the browser gives a worker no GPU
// adapter and in Node tests, in the page's own thread through the in-process transport: the same host,
// the same messages.
import type { TrainConfig } from '../sae/config';
import type { TrainerState } from '../sae/trainerApi';
import type { SaeWeights } from '../sae/types';
import type { CollectedFeatures } from '../analysis/featureColumns';
import type { SyntheticPreset } from '../data/synthetic';
import type { SessionEvent } from './runSession';
import type { StepEnd } from './schedule';

/** Where the engine runs. */
export type EngineKind = 'worker' | 'in-process';

/**
 * How the engine opens a dataset the page loaded (the engine decodes batches itself):
 *   builtin  the synthetic generator with its preset and data seed;
 *   files    the dropped files (File objects clone by reference) with the options the page opened them with;
 *   page     data made on the page (a language model's capture on the page's device): the engine reads its
 *            sequences from the page with 'read' requests.
 */
export type DataDescriptor =
  | { kind: 'builtin'; preset: SyntheticPreset; seed: number }
  | {
      kind: 'files';
      files: { file: Blob & { name: string }; path: string }[];
      folderName?: string;
      flatSeqLen: number;
      maxInflateBytes?: number;
    }
  | {
      kind: 'page';
      name: string;
      numSequences: number;
      seqLen: number;
      d: number;
      dtype: 'float32' | 'float16' | 'bfloat16';
      hasTokenIds: boolean;
      windows: boolean;
    };

/**
 * Where a built run continues from: a whole state (an imported SAE), a stored checkpoint file handed over
 * as a Blob (IndexedDB, the in-process engine), or its path in OPFS, which the worker reads itself one
 * tensor at a time through sync access handles.
 */
export type RestoreSpec =
  | { position: unknown; state: TrainerState }
  | { checkpoint: Blob; fileName: string }
  | { checkpointPath: string };

/** A failure as plain data: the name tells the page's advice apart (TrainingDivergedError, …). */
export interface WireError {
  name: string;
  message: string;
}

export type ParameterName = 'W_enc' | 'b_enc' | 'W_dec' | 'b_dec' | 'log_threshold' | 'topk_threshold';

/** A command without arguments. */
export type NoArgs = { none?: never };

/** Every command: its arguments and what its reply carries. */
export interface Commands {
  /** Which engine answers, on which adapter (null: none, with the reason). */
  hello: {
    args: NoArgs;
    /** files: the engine writes and reads checkpoint files in OPFS itself (sync access handles). */
    result: { kind: EngineKind; adapter: string | null; reason?: string; files: boolean };
  };
  /** Register a dataset under the page's key (sent once per key, before a run opens it). */
  data: { args: { dataKey: string; descriptor: DataDescriptor }; result: null };
  /** Build a run (build number `gen`): data first, then the trainer (fresh, a state or a checkpoint). */
  open: {
    args: { runId: string; gen: number; cfg: TrainConfig; dataKey: string; restore: RestoreSpec | null };
    result: { step: number; tokensSeen: number };
  };
  /** Train until done / paused / stopped (control) / cancelled; the reply comes when the loop ends. */
  train: { args: { runId: string; gen: number }; result: { end: StepEnd | 'cancelled'; step: number } };
  /** How the training loop goes on after the step in progress. */
  control: { args: { runId: string; gen: number; after: 'none' | 'pause' | 'stop' }; result: null };
  /** One step with its metrics read back; false when the budget is spent. */
  step: { args: { runId: string; gen: number }; result: { stepped: boolean; step: number } };
  /** Cancel everything the run has in flight and free its GPU memory (reset, delete, device loss). */
  close: { args: { runId: string }; result: null };
  /** Evaluate now (or right after the one in progress); replies when its event was sent. */
  evaluate: { args: { runId: string }; result: null };
  /** The run ended without a step (a paused run stopped): evaluate it unless this step already was. */
  evaluateAtEnd: { args: { runId: string }; result: null };
  evaluationSettled: { args: { runId: string }; result: null };
  /** Stream the run's checkpoint into the page's sink `streamId` (one 'sink' request per chunk). */
  writeCheckpoint: {
    args: { runId: string; streamId: number; extra: Record<string, unknown> };
    result: { step: number };
  };
  /**
   * Write the run's checkpoint to the OPFS file `path` (the engine's own sync access handles, one tensor
   * at a time; the file replaces the old one only when complete). Engines whose hello said files only.
   */
  writeCheckpointFile: {
    args: { runId: string; path: string; extra: Record<string, unknown> };
    result: { step: number; bytes: number };
  };
  /** Settings the page's stores hold that the engine reads (features clustered per evaluation). */
  settings: { args: { clusterK: number }; result: null };
  /** The SAE's weights (a copy), the config and the data's scale (loss recovered on the page's model). */
  weights: { args: { runId: string }; result: { weights: SaeWeights; cfg: TrainConfig; scale: number } };
  /** One parameter read back alone (exports of large SAEs: one tensor in memory), transferred. */
  readParameter: { args: { runId: string; name: ParameterName }; result: Float32Array };
  /** The trainer's counters and the data's scale, as of now (exports). */
  counters: { args: { runId: string }; result: { step: number; tokens_seen: number; scale: number } };
  /** Some features' activations over the held-out split (the inspector, dashboards). */
  collectFeatures: {
    args: { runId: string; features: number[] };
    result: CollectedFeatures & { step: number };
  };
  /** A feature's nearest decoder rows, and its nearest true feature where the data has them. */
  neighbours: {
    args: { runId: string; feature: number };
    result: {
      nearest: { feature: number; cos: number }[];
      trueFeature: { index: number; cos: number } | null;
    };
  };
  /** Greedy one-to-one matching of two runs' decoder rows (the comparison view). */
  match: {
    args: { runA: string; runB: string };
    result: { meanCos: number; cos: Float64Array; a: Int32Array; b: Int32Array; d_in: [number, number] };
  };
  /** Token ids of the run's full held-out rows, up to maxRows (loss recovered). */
  heldOutIds: { args: { runId: string; maxRows: number }; result: { ids: Int32Array; T: number } };
  /** Test hook: lose the engine's device on purpose, as a driver reset would. */
  destroyDevice: { args: NoArgs; result: null };
}

export type CommandName = keyof Commands;
export type Command = { [K in CommandName]: { op: K; id: number } & Commands[K]['args'] }[CommandName];

/** What the engine asks of the page (while a run trains, a checkpoint streams, page-made data is read). */
export interface Requests {
  /** The run's schedule says: checkpoint now (the loop waits for the reply). */
  saveCheckpoint: { args: { runId: string; gen: number; step: number }; result: null };
  /** One chunk of a checkpoint streamed into the page's sink `streamId`. */
  sink: { args: { streamId: number; bytes: Uint8Array }; result: null };
  /** Sequences (or windows of them) of a page-made dataset. */
  read: {
    args: {
      dataKey: string;
      indices?: number[];
      windows?: { seq: number; offset: number }[];
      length?: number;
    };
    result: { x: Float32Array; tokenIds?: Int32Array };
  };
}
export type RequestName = keyof Requests;
export type EngineRequest = {
  [K in RequestName]: { type: 'request'; id: number; op: K } & Requests[K]['args'];
}[RequestName];

/** The page's answer to an engine request. */
export type Answer = { op: 'answer'; id: number } & (
  { ok: true; value: unknown } | { ok: false; error: WireError }
);

export type ToEngine = Command | Answer;

export type EngineEvent =
  | ({ type: 'reply'; id: number } & ({ ok: true; value: unknown } | { ok: false; error: WireError }))
  | { type: 'session'; runId: string; gen: number; event: SessionEvent }
  | EngineRequest
  | { type: 'device'; status: 'lost' | 'error'; reason: string; message: string };

/** A thrown value as plain data. */
export function wireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** A WireError back as an Error with its name (so `adviceFor` tells kinds apart). */
export function fromWire(w: WireError): Error {
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

/** The buffer of `a` when it can be transferred (a view over the whole of its own buffer), else a copy's. */
export function ownBuffer<T extends Float32Array | Uint8Array | Int32Array>(
  a: T,
): { value: T; buffer: ArrayBuffer } {
  const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
  const value = whole ? a : (a.slice() as T);
  return { value, buffer: value.buffer as ArrayBuffer };
}

/** Calls awaiting their answer by id (the page's commands, the engine's requests): one table each side. */
export class Pending {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** A new id, and the promise its answer settles; `send` posts the message that carries the id. */
  open<T>(send: (id: number) => void): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      send(id);
    });
  }

  /** Settle call `id` with its answer (an unknown id, e.g. from an abandoned transport, is ignored). */
  settle(id: number, answer: { ok: true; value: unknown } | { ok: false; error: WireError }): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if (answer.ok) w.resolve(answer.value);
    else w.reject(fromWire(answer.error));
  }

  /** Fail every call still waiting. */
  failAll(reason: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(reason));
    this.waiting.clear();
  }
}
