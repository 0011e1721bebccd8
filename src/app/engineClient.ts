// The page's side of the engine protocol (src/engine/protocol.ts): it sends commands and awaits their
// replies, hands the runs' session events to whoever listens (src/app/trainingLoop.ts applies them to the
// stores), answers the engine's requests (persist a checkpoint, take a checkpoint chunk, read page-made
// data) and passes the engine's device faults on (persistence rebuilds runs from checkpoints).
//
// Two transports, one protocol:
//   worker      the engine in a dedicated Worker (src/app/engineWorker.ts) with its own GPU device; the page's
//               thread only applies events. The default in the browser.
//   in-process  the same EngineHost on the page's thread, over a TrainingBackend (the page's device and
//               data): where the browser gives a worker no GPU adapter, and in Node tests (Dawn).
import { create } from 'zustand';
import type { ActivationBatch } from '../data/types';
import type { ByteSink } from '../io/checkpoint';
import type { TrainConfig } from '../sae/config';
import type { SaeTrainerApi, TrainerState } from '../sae/trainerApi';
import { EngineHost, type EngineDeps } from '../engine/engineHost';
import {
  Pending,
  wireError,
  type CommandName,
  type Commands,
  type EngineEvent,
  type EngineKind,
  type RequestName,
  type Requests,
  type ToEngine,
} from '../engine/protocol';
import type { RunData, SessionEvent } from '../engine/runSession';

/** The page's data and device, for an engine on the page's thread (src/app/trainingBackend.ts). */
export interface TrainingBackend {
  /** Open the run's data (the source under `dataKey`) as batches of cfg.seqs_per_batch × cfg.context_size. */
  openData(dataKey: string, cfg: TrainConfig): Promise<RunData>;
  /** Build the trainer from weights initialised on the first batch (SPEC §3); throws a readable Error. */
  createTrainer(cfg: TrainConfig, firstBatch: ActivationBatch): Promise<SaeTrainerApi>;
  /** Persistence: open the data at a saved position (the batcher's getState()), for an exact resume. */
  openDataAt?(dataKey: string, cfg: TrainConfig, position: unknown): Promise<RunData>;
  /**
   * Persistence: a trainer on the current (possibly new) device from a saved TrainerState, or empty
   * (null) to be filled from a streamed checkpoint.
   */
  restoreTrainer?(cfg: TrainConfig, state: TrainerState | null): Promise<SaeTrainerApi>;
  /** Let the event loop run (input, rendering) between steps. */
  yieldToPage(): Promise<void>;
  now(): number;
  /** The adapter the trainers run on, in words (when known). */
  adapter?(): Promise<string | null>;
  /** Faults of the device the trainers run on. */
  onDeviceFault?(listener: (status: 'lost' | 'error', reason: string, message: string) => void): void;
  /** Test hook: lose the device on purpose. */
  destroyDevice?(): void;
}

/** The engine's dependencies from a TrainingBackend (the in-process engine). */
export function backendDeps(b: TrainingBackend): EngineDeps {
  return {
    kind: 'in-process',
    hello: async () => ({ adapter: (await b.adapter?.()) ?? null }),
    openData(key, cfg, position, restoring) {
      if (!restoring) return b.openData(key, cfg);
      if (!b.openDataAt) throw new Error('This training backend cannot restore saved runs.');
      return b.openDataAt(key, cfg, position);
    },
    createTrainer(cfg, from) {
      if ('firstBatch' in from) return b.createTrainer(cfg, from.firstBatch);
      if (!b.restoreTrainer) throw new Error('This training backend cannot restore saved runs.');
      return b.restoreTrainer(cfg, 'state' in from ? from.state : null);
    },
    yieldToHost: () => b.yieldToPage(),
    now: () => b.now(),
    destroyDevice: b.destroyDevice ? () => b.destroyDevice!() : undefined,
  };
}

/** Which engine the page uses, for the status bar. */
export interface EngineStatus {
  kind: EngineKind | null;
  adapter: string | null;
  /** Why the worker was not used (no adapter in a worker, no Worker at all). */
  note: string | null;
}
export const useEngineStatus = create<EngineStatus>(() => ({ kind: null, adapter: null, note: null }));

interface Transport {
  post(msg: ToEngine, transfer?: Transferable[]): void;
  close(): void;
}

type Handler<K extends RequestName> = (args: Requests[K]['args']) => Promise<Requests[K]['result']>;

export class EngineClient {
  private transport: Transport | null = null;
  private queue: { msg: ToEngine; transfer?: Transferable[] }[] = [];
  private readonly calls = new Pending();
  private readonly sessionListeners = new Set<(runId: string, gen: number, e: SessionEvent) => void>();
  private readonly faultListeners = new Set<
    (status: 'lost' | 'error', reason: string, message: string) => void
  >();
  private readonly handlers: { [K in RequestName]?: Handler<K> } = {};
  private readonly sinks = new Map<number, ByteSink>();
  private nextSink = 1;
  private readonly sentData = new Set<string>();
  /** How the engine opens a dataset the page loaded (src/app/dataSession.ts); null: not describable. */
  describeData: ((dataKey: string) => Commands['data']['args']['descriptor'] | null) | null = null;
  /** The in-process host (tests and DevTools read its live handles). */
  host: EngineHost | null = null;
  kind: EngineKind | null = null;
  /** The engine writes and reads OPFS checkpoint files itself (its hello said so). */
  files = false;

  constructor() {
    this.handlers.sink = async ({ streamId, bytes }) => {
      const s = this.sinks.get(streamId);
      if (!s) throw new Error('The checkpoint stream was closed.');
      await s.write(bytes);
      return null;
    };
  }

  /** Connect a transport; messages sent before are delivered now, in order. */
  attach(kind: EngineKind, t: Transport): void {
    this.kind = kind;
    this.transport = t;
    const q = this.queue;
    this.queue = [];
    for (const m of q) t.post(m.msg, m.transfer);
  }

  /** Drop the transport (a worker that has no adapter); calls in flight fail, later ones wait for attach. */
  detach(reason: string): void {
    if (!this.transport) return;
    this.transport.close();
    this.transport = null;
    this.calls.failAll(reason);
  }

  private send(msg: ToEngine, transfer?: Transferable[]) {
    if (this.transport) this.transport.post(msg, transfer);
    else this.queue.push({ msg, transfer });
  }

  call<K extends CommandName>(
    op: K,
    args: Commands[K]['args'],
    transfer?: Transferable[],
  ): Promise<Commands[K]['result']> {
    return this.calls.open((id) => this.send({ op, id, ...args } as ToEngine, transfer));
  }

  /** Register the page's dataset with the engine once (the engine opens it from the descriptor). */
  async ensureData(dataKey: string) {
    if (this.sentData.has(dataKey) || !this.describeData) return;
    const descriptor = this.describeData(dataKey);
    if (!descriptor) return;
    this.sentData.add(dataKey);
    await this.call('data', { dataKey, descriptor });
  }

  onSession(l: (runId: string, gen: number, e: SessionEvent) => void): () => void {
    this.sessionListeners.add(l);
    return () => this.sessionListeners.delete(l);
  }

  onDeviceFault(l: (status: 'lost' | 'error', reason: string, message: string) => void): () => void {
    this.faultListeners.add(l);
    return () => this.faultListeners.delete(l);
  }

  handle<K extends RequestName>(op: K, h: Handler<K>): void {
    (this.handlers as Record<string, unknown>)[op] = h;
  }

  /** Stream a run's checkpoint from the engine into `sink` (one chunk at a time); resolves with its step. */
  async streamCheckpoint(runId: string, sink: ByteSink, extra: Record<string, unknown>): Promise<number> {
    const streamId = this.nextSink++;
    this.sinks.set(streamId, sink);
    try {
      return (await this.call('writeCheckpoint', { runId, streamId, extra })).step;
    } finally {
      this.sinks.delete(streamId);
    }
  }

  /** One message from the engine. */
  receive(e: EngineEvent): void {
    switch (e.type) {
      case 'reply':
        this.calls.settle(e.id, e);
        return;
      case 'session':
        for (const l of this.sessionListeners) l(e.runId, e.gen, e.event);
        return;
      case 'device':
        for (const l of this.faultListeners) l(e.status, e.reason, e.message);
        return;
      case 'request': {
        const h = this.handlers[e.op] as Handler<RequestName> | undefined;
        const id = e.id;
        const answer = (m: ToEngine, transfer?: Transferable[]) => this.send(m, transfer);
        if (!h) {
          answer({
            op: 'answer',
            id,
            ok: false,
            error: { name: 'Error', message: `The page cannot answer ${e.op}.` },
          });
          return;
        }
        const { type: _t, id: _i, op: _o, ...args } = e;
        // Answers are copied, not transferred: page-made data may keep the arrays it hands out.
        h(args as never).then(
          (value) => answer({ op: 'answer', id, ok: true, value }),
          (err) => answer({ op: 'answer', id, ok: false, error: wireError(err) }),
        );
        return;
      }
    }
  }
}

/** An engine on this thread over `backend` (Node tests; the browser's fallback). Messages are not copied. */
export function inProcessEngine(backend: TrainingBackend, client = new EngineClient()): EngineClient {
  const host = new EngineHost(backendDeps(backend), (e) => client.receive(e));
  backend.onDeviceFault?.((status, reason, message) => host.deviceFault(status, reason, message));
  client.host = host;
  client.attach('in-process', { post: (m) => host.handle(m), close: () => {} });
  void client.call('hello', {}).then(
    (h) => useEngineStatus.setState({ kind: 'in-process', adapter: h.adapter }),
    () => {},
  );
  return client;
}

/**
 * The engine in a dedicated Worker; where the worker gets no GPU adapter (or cannot start), the same
 * engine on the page's thread over `fallback` — the status bar says which.
 */
export function workerEngine(fallback: () => TrainingBackend): EngineClient {
  const client = new EngineClient();
  const useFallback = (note: string) => {
    client.detach(note);
    useEngineStatus.setState({ note });
    inProcessEngine(fallback(), client);
  };
  let worker: Worker;
  try {
    worker = new Worker(new URL('./engineWorker.ts', import.meta.url), {
      type: 'module',
      name: 'temposae-engine',
    });
  } catch (e) {
    useFallback(
      `No engine worker (${e instanceof Error ? e.message : String(e)}): training runs on the page.`,
    );
    return client;
  }
  worker.onmessage = (ev: MessageEvent<EngineEvent>) => client.receive(ev.data);
  const early = (ev: ErrorEvent) => {
    console.warn('engine worker failed to start:', ev.message);
  };
  worker.addEventListener('error', early);
  // Ask the worker alone first (not through the client's queue, which waits for this answer).
  type Hello = Commands['hello']['result'];
  const hello = new Promise<Hello>((resolve) => {
    const ch = (ev: MessageEvent<EngineEvent>) => {
      const m = ev.data;
      if (m.type === 'reply' && m.id === 0) {
        worker.removeEventListener('message', ch);
        resolve(
          m.ok
            ? (m.value as Hello)
            : { kind: 'worker', adapter: null, reason: m.error.message, files: false },
        );
      }
    };
    worker.addEventListener('message', ch);
    worker.addEventListener(
      'error',
      (ev) =>
        resolve({
          kind: 'worker',
          adapter: null,
          reason: ev.message || 'the worker did not start',
          files: false,
        }),
      {
        once: true,
      },
    );
    worker.postMessage({ op: 'hello', id: 0 } satisfies ToEngine);
  });
  void hello.then((h) => {
    worker.removeEventListener('error', early);
    if (!h.adapter) {
      worker.terminate();
      useFallback(`The engine worker has no GPU adapter (${h.reason ?? 'none'}): training runs on the page.`);
      return;
    }
    client.files = h.files;
    client.attach('worker', {
      post: (m, transfer) => worker.postMessage(m, transfer ?? []),
      close: () => worker.terminate(),
    });
    useEngineStatus.setState({ kind: 'worker', adapter: h.adapter });
  });
  return client;
}
