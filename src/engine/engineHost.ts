// The engine side of the protocol (./protocol.ts), transport-agnostic: it owns the runs' RunSessions
// (./runSession.ts), builds them from the data and trainers its EngineDeps give (the worker's own device
// and data, src/app/engineWorker.ts; or the page's, in process), answers the page's commands, and sends each
// session's events tagged with the run and its build number. It knows no store and no page: what the page
// must do (persist a checkpoint, read page-made data) it asks with a request and waits for the answer.
//
// One run, one build at a time: `open` with a new build number cancels the old build (its session is
// aborted, so it reports nothing more). `close` cancels and frees. Everything a run computes off its
// weights for the page (held-out features for the inspector, the nearest decoder rows, matching two runs,
// held-out token ids) is computed here, so the reductions run where the engine runs (off the page's thread
// in the worker).
import { collectFeatures, type CollectedFeatures } from '../analysis/featureColumns';
import { nearestTrueFeature } from '../analysis/groundTruth';
import { nearestByDecoder } from '../analysis/inspector';
import { greedyMatch } from '../analysis/matching';
import { openCheckpoint, type ByteReader, type ByteSink } from '../io/checkpoint';
import type { TrainConfig } from '../sae/config';
import type { SaeTrainerApi } from '../sae/trainerApi';
import {
  groundTruthOf,
  limitBatches,
  RunSession,
  type RunData,
  type SessionRestore,
  type TrainerSource,
} from './runSession';
import {
  ownBuffer,
  Pending,
  wireError,
  type Command,
  type CommandName,
  type Commands,
  type EngineEvent,
  type EngineKind,
  type RequestName,
  type Requests,
  type RestoreSpec,
  type ToEngine,
} from './protocol';

/** What the host needs from where it runs: data, trainers on a device, the event loop, a clock. */
export interface EngineDeps {
  kind: EngineKind;
  /** The adapter the trainers run on, in words (null: none, with the reason). */
  hello(): Promise<{ adapter: string | null; reason?: string }>;
  /** A dataset the page registered (the worker opens it from its descriptor; in process it is the page's). */
  registerData?(dataKey: string, descriptor: Commands['data']['args']['descriptor']): void;
  /** The run's batches, at the start (position undefined, restoring false) or at a saved position. */
  openData(dataKey: string, cfg: TrainConfig, position: unknown, restoring: boolean): Promise<RunData>;
  createTrainer(cfg: TrainConfig, from: TrainerSource): Promise<SaeTrainerApi>;
  /** Let the host's event loop run between steps (commands such as pause arrive then). */
  yieldToHost(): Promise<void>;
  now(): number;
  destroyDevice?(): void;
  /** Checkpoint files the engine writes and reads itself (the worker: OPFS sync access handles). */
  files?: CheckpointFiles;
}

/** Streamed files at storage paths (runs/<id>/checkpoints/step-….safetensors). */
export interface CheckpointFiles {
  /** Write `path` as `fill` streams it, replacing the old file only when complete; resolves with its bytes. */
  write(path: string, fill: (sink: ByteSink) => Promise<unknown>): Promise<number>;
  /** Random-access reads of `path` (a missing file throws, naming it). */
  reader(path: string): Promise<ByteReader>;
}

/** What a command handler returns: the reply value and the buffers to transfer with it. */
interface Reply {
  value: unknown;
  transfer?: Transferable[];
}

interface HostRun {
  gen: number;
  abort: AbortController;
  session: RunSession | null;
  building: Promise<RunSession | null> | null;
  after: 'none' | 'pause' | 'stop';
  /** The step or training loop in progress: the next one waits for it (one driver per session). */
  busy: Promise<unknown>;
}

/** Run `f` after what the run is busy with (its outcome does not matter), as the run's next driver. */
function exclusive<T>(r: HostRun, f: () => Promise<T>): Promise<T> {
  const p = r.busy.then(f, f);
  r.busy = p.catch(() => {});
  return p;
}

/** Reads of a Blob by range (a stored checkpoint file: only the tensor asked for comes into memory). */
export function blobRangeReader(b: Blob): ByteReader {
  return { size: b.size, read: async (o, n) => new Uint8Array(await b.slice(o, o + n).arrayBuffer()) };
}

export class EngineHost {
  private readonly runs = new Map<string, HostRun>();
  private readonly requests = new Pending();
  private clusterK = 0;
  /** The last single feature's held-out columns (a redraw without another forward pass). */
  private lastHeld: { key: string; session: RunSession; value: CollectedFeatures & { step: number } } | null =
    null;

  constructor(
    private readonly deps: EngineDeps,
    private readonly post: (e: EngineEvent, transfer?: Transferable[]) => void,
  ) {}

  /** One message from the page: a command (answered with a reply) or the answer to one of our requests. */
  handle(msg: ToEngine): void {
    if (msg.op === 'answer') {
      this.requests.settle(msg.id, msg);
      return;
    }
    const id = msg.id;
    this.run(msg).then(
      (r) => this.post({ type: 'reply', id, ok: true, value: r.value }, r.transfer),
      (e) => this.post({ type: 'reply', id, ok: false, error: wireError(e) }),
    );
  }

  /** Ask the page something and wait for its answer. */
  request<K extends RequestName>(
    op: K,
    args: Requests[K]['args'],
    transfer?: Transferable[],
  ): Promise<Requests[K]['result']> {
    return this.requests.open((id) =>
      this.post({ type: 'request', id, op, ...args } as EngineEvent, transfer),
    );
  }

  /** A device fault, for the page (persistence rebuilds runs from their checkpoints on a loss). */
  deviceFault(status: 'lost' | 'error', reason: string, message: string): void {
    this.post({ type: 'device', status, reason, message });
  }

  private session(runId: string): RunSession {
    const s = this.runs.get(runId)?.session;
    if (!s || s.closed)
      throw new Error('The run has no trained weights in this page yet: start it (or resume it) first.');
    return s;
  }

  private evalSession(runId: string): RunSession {
    const s = this.session(runId);
    const problem = s.evaluationProblem();
    if (problem) throw new Error(problem);
    return s;
  }

  private async run(c: Command): Promise<Reply> {
    switch (c.op) {
      case 'hello': {
        const h = await this.deps.hello();
        return { value: { kind: this.deps.kind, ...h, files: !!this.deps.files } };
      }
      case 'data':
        this.deps.registerData?.(c.dataKey, c.descriptor);
        return { value: null };
      case 'open':
        return { value: await this.open(c.runId, c.gen, c.cfg, c.dataKey, c.restore) };
      case 'train':
        return { value: await this.train(c.runId, c.gen) };
      case 'control': {
        const r = this.runs.get(c.runId);
        if (r && r.gen === c.gen) r.after = c.after;
        return { value: null };
      }
      case 'step': {
        this.current(c.runId, c.gen);
        const r = this.runs.get(c.runId)!;
        const value = await exclusive(r, async () => {
          const s = this.current(c.runId, c.gen);
          const stepped = await s.stepOnce();
          return { stepped, step: s.closed ? 0 : s.step };
        });
        return { value };
      }
      case 'close':
        this.close(c.runId);
        return { value: null };
      case 'evaluate':
        await this.session(c.runId).evaluate();
        return { value: null };
      case 'evaluateAtEnd':
        await this.runs.get(c.runId)?.session?.evaluateAtEnd();
        return { value: null };
      case 'evaluationSettled':
        await this.runs.get(c.runId)?.session?.evaluationSettled();
        return { value: null };
      case 'writeCheckpoint': {
        const s = this.session(c.runId);
        const sink: ByteSink = {
          write: async (b) => {
            const { value, buffer } = ownBuffer(b);
            await this.request('sink', { streamId: c.streamId, bytes: value }, [buffer]);
          },
        };
        return { value: { step: await s.writeCheckpoint(sink, c.extra) } };
      }
      case 'writeCheckpointFile': {
        const files = this.deps.files;
        if (!files) throw new Error('This engine does not write storage files itself.');
        const s = this.session(c.runId);
        let step = 0;
        const bytes = await files.write(c.path, async (sink) => {
          step = await s.writeCheckpoint(sink, c.extra);
        });
        return { value: { step, bytes } };
      }
      case 'settings':
        this.clusterK = c.clusterK;
        return { value: null };
      case 'weights': {
        const s = this.session(c.runId);
        const weights = await s.trainer.getWeights();
        return { value: { weights, cfg: s.trainer.cfg, scale: s.batcher?.scale ?? 1 } };
      }
      case 'readParameter': {
        const a = await this.session(c.runId).readParameter(c.name);
        const { value, buffer } = ownBuffer(a);
        return { value, transfer: [buffer] };
      }
      case 'counters': {
        const s = this.session(c.runId);
        const k = (await s.trainer.readCounters?.()) ?? { step: s.step, tokens_seen: s.tokensSeen };
        return { value: { step: k.step, tokens_seen: k.tokens_seen, scale: s.batcher?.scale ?? 1 } };
      }
      case 'collectFeatures':
        return { value: await this.heldOutFeatures(c.runId, c.features) };
      case 'neighbours': {
        const s = this.session(c.runId);
        const W = await s.trainer.getWeights();
        const gt = s.batcher ? groundTruthOf(s.batcher) : null;
        let trueFeature: { index: number; cos: number } | null = null;
        if (gt) {
          const row = W.W_dec.subarray(c.feature * W.d_in, (c.feature + 1) * W.d_in);
          const t = nearestTrueFeature(gt.trueDictionary, gt.F, row, 1, W.d_in);
          trueFeature = { index: t.index[0], cos: t.cos[0] };
        }
        return { value: { nearest: nearestByDecoder(W.W_dec, W.d_sae, W.d_in, c.feature), trueFeature } };
      }
      case 'match': {
        const [wa, wb] = await Promise.all([
          this.session(c.runA).trainer.getWeights(),
          this.session(c.runB).trainer.getWeights(),
        ]);
        const d_in: [number, number] = [wa.d_in, wb.d_in];
        if (wa.d_in !== wb.d_in)
          return {
            value: {
              meanCos: NaN,
              cos: new Float64Array(0),
              a: new Int32Array(0),
              b: new Int32Array(0),
              d_in,
            },
          };
        const r = greedyMatch(wa.W_dec, wa.d_sae, wb.W_dec, wb.d_sae, wa.d_in);
        return {
          value: { meanCos: r.meanCos, cos: r.cos, a: r.a, b: r.b, d_in },
          transfer: [r.cos.buffer, r.a.buffer, r.b.buffer] as ArrayBuffer[],
        };
      }
      case 'heldOutIds': {
        const v = await this.heldOutIds(c.runId, c.maxRows);
        return { value: v, transfer: [v.ids.buffer as ArrayBuffer] };
      }
      case 'destroyDevice':
        this.deps.destroyDevice?.();
        return { value: null };
    }
  }

  /** The run's session of build `gen` (a command for an older build is refused). */
  private current(runId: string, gen: number): RunSession {
    const r = this.runs.get(runId);
    if (!r || r.gen !== gen || !r.session || r.session.closed)
      throw new Error('This run’s session was closed.');
    return r.session;
  }

  private close(runId: string) {
    const r = this.runs.get(runId);
    if (!r) return;
    r.abort.abort();
    this.runs.delete(runId);
    if (this.lastHeld?.key.startsWith(`${runId}|`)) this.lastHeld = null;
  }

  private async open(
    runId: string,
    gen: number,
    cfg: TrainConfig,
    dataKey: string,
    spec: RestoreSpec | null,
  ): Promise<{ step: number; tokensSeen: number }> {
    const old = this.runs.get(runId);
    if (old && old.gen === gen && (old.session || old.building)) {
      const s = old.session ?? (await old.building);
      if (!s) throw new Error('The run was cancelled while it was being built.');
      return { step: s.step, tokensSeen: s.tokensSeen };
    }
    if (old) this.close(runId);
    const abort = new AbortController();
    const r: HostRun = { gen, abort, session: null, building: null, after: 'none', busy: Promise.resolve() };
    this.runs.set(runId, r);
    const signal = abort.signal;
    let restore: SessionRestore | null = null;
    if (spec && 'state' in spec) restore = { position: spec.position, state: spec.state };
    else if (spec) {
      let checkpoint;
      if ('checkpointPath' in spec) {
        const path = spec.checkpointPath;
        if (!this.deps.files) throw new Error('This engine does not read storage files itself.');
        checkpoint = await openCheckpoint(await this.deps.files.reader(path), path);
      } else checkpoint = await openCheckpoint(blobRangeReader(spec.checkpoint), spec.fileName);
      restore = { position: checkpoint.meta.data_state, checkpoint };
    }
    const d = this.deps;
    r.building = RunSession.open({
      cfg,
      signal,
      restore,
      openData: (position) => d.openData(dataKey, cfg, position, restore !== null),
      createTrainer: (from) => d.createTrainer(cfg, from),
      yieldToHost: () => d.yieldToHost(),
      now: () => d.now(),
      onEvent: (event) => this.post({ type: 'session', runId, gen, event }),
      saveCheckpoint: async (s) => {
        // The page persists it (and streams it back from us with writeCheckpoint); the loop waits.
        await this.request('saveCheckpoint', { runId, gen, step: s.step });
      },
      evaluation: 'background',
      clusterK: () => this.clusterK,
    });
    try {
      const s = await r.building;
      if (!s || signal.aborted) throw new Error('The run was cancelled while it was being built.');
      r.session = s;
      return { step: s.step, tokensSeen: s.tokensSeen };
    } catch (e) {
      if (this.runs.get(runId) === r) this.runs.delete(runId);
      throw e;
    } finally {
      r.building = null;
    }
  }

  private async train(runId: string, gen: number) {
    this.current(runId, gen);
    const r = this.runs.get(runId)!;
    // Set now, not when the loop starts: a pause sent after this command still applies to this loop.
    r.after = 'none';
    return exclusive(r, async () => {
      const s = this.current(runId, gen);
      const end = await s.train({ after: () => r.after });
      return { end, step: s.closed ? 0 : s.step };
    });
  }

  private async heldOutFeatures(
    runId: string,
    features: number[],
  ): Promise<CollectedFeatures & { step: number }> {
    const s = this.evalSession(runId);
    const t = s.trainer;
    const step = t.step;
    const key = `${runId}|${features.join(',')}|${step}`;
    if (this.lastHeld?.key === key && this.lastHeld.session === s) return this.lastHeld.value;
    const c = await collectFeatures(limitBatches(s.batcher!), (b) => t.forward(b), s.cfg.d_sae, features);
    if (c.sequences === 0) throw new Error('The held-out split is empty.');
    const value = { step, ...c };
    // Kept only while the trainer has not moved on (a running run's features change every step).
    if (features.length === 1 && !s.closed && t.step === step) this.lastHeld = { key, session: s, value };
    return value;
  }

  private async heldOutIds(runId: string, maxRows: number): Promise<{ ids: Int32Array; T: number }> {
    const s = this.evalSession(runId);
    const parts: Int32Array[] = [];
    let T = 0;
    let rows = 0;
    for await (const b of limitBatches(s.batcher!)) {
      if (!b.tokenIds)
        throw new Error('The held-out rows carry no token ids: loss recovered needs the text.');
      T = b.T;
      for (let q = 0; q < b.S && rows < maxRows; q++, rows++) {
        // Rows with padding are left out: the model would read the pad ids as text.
        let full = true;
        for (let t = 0; t < b.T; t++) if (!b.valid[q * b.T + t]) full = false;
        if (full) parts.push(b.tokenIds.slice(q * b.T, (q + 1) * b.T));
      }
      if (rows >= maxRows) break;
    }
    if (!parts.length) throw new Error('The held-out split has no full row of tokens.');
    const ids = new Int32Array(parts.length * T);
    parts.forEach((p, i) => ids.set(p, i * T));
    return { ids, T };
  }

  /** The live trainer and data of a run (in-process engines only: tests and DevTools). */
  handles(runId: string): { trainer: SaeTrainerApi; data: RunData } | null {
    const s = this.runs.get(runId)?.session;
    return s && !s.closed ? { trainer: s.trainer, data: s.data } : null;
  }
}

/** The command names, for exhaustiveness checks in tests. */
export const COMMAND_NAMES: readonly CommandName[] = [
  'hello',
  'data',
  'open',
  'train',
  'control',
  'step',
  'close',
  'evaluate',
  'evaluateAtEnd',
  'evaluationSettled',
  'writeCheckpoint',
  'writeCheckpointFile',
  'settings',
  'weights',
  'readParameter',
  'counters',
  'collectFeatures',
  'neighbours',
  'match',
  'heldOutIds',
  'destroyDevice',
];
