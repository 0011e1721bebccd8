// One run, as an object: its trainer, its batches (a typed Batcher), the schedule of what follows a step
// (./schedule.ts), one cancellation (an AbortSignal), the held-out evaluation and the checkpoints. The
// app (src/app/trainingLoop.ts, one session per run) and the CLI (src/cli/train.ts) drive the same
// class, so the same data, config and seed give the same steps, readbacks, evaluations and checkpoints
// in both (test/gpu/cli-app-parity.test.ts).
//
//   RunSession.open(...)   build: data first, then the trainer from the first batch (SPEC §3: the first
//                          batch initialises b_dec and is then trained on as step 1) or from a saved state
//   session.train(ctl)     step until the budget, --stop-at, or the controller says pause/stop; after each
//                          step `dueAt` says whether to read metrics, evaluate, checkpoint
//   session.stepOnce()     one step (the app's Step button)
//   session.evaluate()     held-out evaluation now (or right after the one in progress)
//   session.writeCheckpoint(sink)  the checkpoint streamed tensor by tensor (src/io/checkpoint.ts)
//   abort the signal       the trainer and data are freed; nothing more is reported
//
// What the session reports goes to its `onEvent` listener as typed events (plain data): the app
// applies them to its stores, the CLI to its history and progress bar.
import { evaluateHeldOut, type EvalResult } from '../analysis/evaluate';
import type { Batcher } from '../data/batcher';
import type { ActivationBatch } from '../data/types';
import {
  restoreCheckpoint,
  streamCheckpoint,
  type ByteSink,
  type Checkpoint,
  type OpenedCheckpoint,
} from '../io/checkpoint';
import { totalSteps, type TrainConfig } from '../sae/config';
import type { SaeTrainerApi, TrainerState } from '../sae/trainerApi';
import type { StepMetrics } from '../sae/types';
import { dueAt, type StepEnd } from './schedule';
import { prefixEvalOptions } from '../sae/architectures';

/** The training batches of one run. `batcher` gives the held-out split and the position to save. */
export interface RunData {
  next(): Promise<ActivationBatch>;
  batcher?: Batcher;
  destroy?(): void;
}

/** The synthetic data's true dictionary (mmcs / recovered), when the source has one. */
export interface GroundTruth {
  trueDictionary: Float32Array;
  F: number;
}

export function groundTruthOf(b: Batcher): GroundTruth | null {
  const s = b.source as unknown as Partial<GroundTruth>;
  return s.trueDictionary instanceof Float32Array && typeof s.F === 'number' ? (s as GroundTruth) : null;
}

/** Held-out batches per evaluation in the app (bounded time; the built-in default set needs 13). */
export const MAX_EVAL_BATCHES = 32;
/** Held-out batches kept in host memory when they fit (an evaluation then starts at the step that asked). */
export const HELD_OUT_CACHE_BYTES = 64 * 1024 * 1024;

/** The first `max` held-out batches. */
export async function* limitBatches(b: Batcher, max = MAX_EVAL_BATCHES): AsyncGenerator<ActivationBatch> {
  let k = 0;
  for await (const batch of b.heldOutBatches()) {
    if (k++ >= max) return;
    yield batch;
  }
}

export interface SessionEvaluation {
  /** The step the forward passes saw (the first group's), and the step when the last was submitted. */
  step: number;
  stepEnd: number;
  tokensSeen: number;
  ms: number;
  result: EvalResult;
}

/** What a session reports, in order. Plain data: it can cross a worker boundary as it is. */
export type SessionEvent =
  | {
      type: 'metrics';
      metrics: StepMetrics;
      /** the host should show it now (end, checkpoint) */ flush: boolean;
    }
  | { type: 'evaluating'; step: number }
  | { type: 'evaluated'; evaluation: SessionEvaluation }
  | { type: 'evaluationFailed'; step: number; message: string };

export type CheckpointReason = 'interval' | 'end';

export interface RunSessionOptions {
  cfg: TrainConfig;
  signal: AbortSignal;
  /** Open the run's batches: at the start, or at a saved position (a resume). */
  openData(position?: unknown): Promise<RunData>;
  /**
   * A trainer for the run: from fresh weights initialised on the first batch (SPEC §3: initWeights), from
   * a whole saved state, or empty (filled next from a streamed checkpoint, one tensor at a time).
   */
  createTrainer(from: TrainerSource): Promise<SaeTrainerApi>;
  /** A saved point to continue from instead of a fresh init: a whole state, or a checkpoint file. */
  restore?: SessionRestore | null;
  /** Let the host's event loop run between steps (the page: input and rendering). */
  yieldToHost(): Promise<void>;
  now(): number;
  onEvent(e: SessionEvent): void;
  /** Persist a checkpoint (the loop waits, so the trainer and the data position agree); a throw stops the run. */
  saveCheckpoint?(session: RunSession, reason: CheckpointReason): Promise<void>;
  /**
   * 'background': training goes on while an evaluation runs (its forward passes queue between steps;
   * the page). 'inline': the loop waits for it (the CLI, whose history lists evaluations in step order).
   */
  evaluation: 'background' | 'inline';
  /** Held-out batches per evaluation (default MAX_EVAL_BATCHES). */
  maxEvalBatches?: number;
  /** Features clustered per evaluation (read at each evaluation; default 0: none). */
  clusterK?: () => number;
}

export type TrainerSource = { firstBatch: ActivationBatch } | { state: TrainerState } | { empty: true };

/** Where a session continues from: the data position and the trainer state (in memory or in a file). */
export type SessionRestore =
  { position: unknown; state: TrainerState } | { position: unknown; checkpoint: OpenedCheckpoint };

/** How the host wants the loop to go on after the step in progress. */
export interface TrainControl {
  after(): 'none' | 'pause' | 'stop';
  /** Stop as if paused after this step (CLI --stop-at). */
  stopAt?: number;
}

export class RunSession {
  readonly cfg: TrainConfig;
  readonly signal: AbortSignal;
  private trainerRef: SaeTrainerApi | null;
  private dataRef: RunData | null;
  /** The first batch: it initialised the trainer and is trained on as step 1. */
  private pending: ActivationBatch | null;
  private lastRead = -1;
  private tokens: number;
  private lastEvaluated: number | null = null;
  private evalRun: Promise<void> | null = null;
  private evalAgain = false;
  private heldOutCache: Promise<ActivationBatch[] | null> | null = null;
  private heldOutReady: ActivationBatch[] | null = null;
  /** The newest evaluation's result (the CLI writes it to eval.json and the export's density). */
  latestEvaluation: SessionEvaluation | null = null;

  private constructor(
    private readonly o: RunSessionOptions,
    trainer: SaeTrainerApi,
    data: RunData,
    pending: ActivationBatch | null,
    tokens: number,
  ) {
    this.cfg = o.cfg;
    this.signal = o.signal;
    this.trainerRef = trainer;
    this.dataRef = data;
    this.pending = pending;
    this.tokens = tokens;
    this.signal.addEventListener('abort', () => this.free(), { once: true });
  }

  /** Build the run's data and trainer; resolves null when the signal aborted meanwhile (nothing kept). */
  static async open(o: RunSessionOptions): Promise<RunSession | null> {
    const data = await o.openData(o.restore?.position);
    let trainer: SaeTrainerApi | null = null;
    let first: ActivationBatch | null = null;
    let session: RunSession | null = null;
    try {
      if (o.signal.aborted) return null;
      const r = o.restore;
      let tokens = 0;
      if (r && 'state' in r) {
        trainer = await o.createTrainer({ state: r.state });
        tokens = r.state.tokens_seen;
      } else if (r) {
        trainer = await o.createTrainer({ empty: true });
        if (o.signal.aborted) return null;
        await restoreCheckpoint(trainer, r.checkpoint);
        tokens = r.checkpoint.meta.tokens_seen;
      } else {
        first = await data.next();
        if (o.signal.aborted) return null;
        trainer = await o.createTrainer({ firstBatch: first });
      }
      if (o.signal.aborted) return null;
      session = new RunSession(o, trainer, data, first, tokens);
      return session;
    } finally {
      // Failed or cancelled while building: free what was made (a session frees its own on abort).
      if (!session) {
        trainer?.destroy();
        data.destroy?.();
      }
    }
  }

  get trainer(): SaeTrainerApi {
    if (!this.trainerRef) throw new Error('This run’s session was closed.');
    return this.trainerRef;
  }
  get data(): RunData {
    if (!this.dataRef) throw new Error('This run’s session was closed.');
    return this.dataRef;
  }
  get batcher(): Batcher | undefined {
    return this.dataRef?.batcher;
  }
  get step(): number {
    return this.trainer.step;
  }
  get totalSteps(): number {
    return totalSteps(this.cfg);
  }
  /** Tokens seen as of the newest readback (or the restored state). */
  get tokensSeen(): number {
    return this.tokens;
  }
  get closed(): boolean {
    return this.trainerRef === null;
  }

  private free() {
    this.trainerRef?.destroy();
    this.dataRef?.destroy?.();
    this.trainerRef = null;
    this.dataRef = null;
    this.pending = null;
  }

  private emit(e: SessionEvent) {
    if (!this.signal.aborted) this.o.onEvent(e);
  }

  /** One training step: the pending first batch or the next one, recorded in one submit. */
  private async trainOne(): Promise<void> {
    const batch = this.pending ?? (await this.data.next());
    this.pending = null;
    if (this.signal.aborted) return;
    this.trainer.trainStep(batch);
  }

  private async readMetrics(flush: boolean): Promise<StepMetrics | null> {
    const t = this.trainer;
    if (t.step === this.lastRead || t.step === 0) return null;
    const m = await t.readMetrics();
    if (this.signal.aborted) return null;
    this.lastRead = m.step;
    this.tokens = m.tokens_seen;
    this.emit({ type: 'metrics', metrics: m, flush });
    return m;
  }

  /** What the schedule says after a step, done in order: metrics, evaluation, checkpoint. */
  private async afterStep(end: StepEnd): Promise<void> {
    const step = this.trainer.step;
    const due = dueAt(step, this.cfg, end, this.lastEvaluated);
    if (due.metrics) await this.readMetrics(end !== 'none' || due.checkpoint);
    if (this.signal.aborted) return;
    if (due.evaluate) {
      this.lastEvaluated = step;
      const p = this.evaluate();
      if (this.o.evaluation === 'inline') await p;
    }
    if (this.signal.aborted) return;
    // A checkpoint that cannot be written stops the CLI's run (it throws); the app's saveCheckpoint
    // reports and carries on (training continues in memory).
    if (due.checkpoint && this.o.saveCheckpoint)
      await this.o.saveCheckpoint(this, end === 'none' ? 'interval' : 'end');
  }

  /**
   * Train until the token budget (`done`), ctl.stopAt (`pause`) or the controller's wish; resolves with
   * how it ended, or 'cancelled' when the signal aborted. Throws what the trainer throws (divergence,
   * a lost device) after nothing more is due.
   */
  async train(ctl: TrainControl): Promise<StepEnd | 'cancelled'> {
    const total = this.totalSteps;
    const stopAt = ctl.stopAt ?? Infinity;
    if (this.warmAllowed()) void this.warmHeldOut();
    if (this.trainer.step >= total) {
      await this.afterStep('done');
      return this.signal.aborted ? 'cancelled' : 'done';
    }
    while (!this.signal.aborted) {
      await this.trainOne();
      if (this.signal.aborted) break;
      const step = this.trainer.step;
      const want = ctl.after();
      const end: StepEnd = step >= total ? 'done' : step >= stopAt ? 'pause' : want;
      const due = dueAt(step, this.cfg, end, this.lastEvaluated);
      if (end === 'none' && !due.metrics && !due.evaluate && !due.checkpoint) {
        await this.o.yieldToHost();
        continue;
      }
      await this.afterStep(end);
      if (end !== 'none') return this.signal.aborted ? 'cancelled' : end;
    }
    return 'cancelled';
  }

  /** One step, its metrics read back (the run pauses after it). False when the budget is spent. */
  async stepOnce(): Promise<boolean> {
    if (this.trainer.step >= this.totalSteps) return false;
    await this.trainOne();
    if (this.signal.aborted) return false;
    await this.afterStep('step');
    return true;
  }

  /** Why this run cannot be evaluated, or null. */
  evaluationProblem(): string | null {
    const b = this.batcher;
    if (!b || typeof b.heldOutBatches !== 'function')
      return 'The run’s data has no held-out split to evaluate on.';
    if (b.heldOutWindows === 0) return 'The held-out split is empty: load more sequences.';
    return null;
  }

  private warmAllowed(): boolean {
    return this.o.evaluation === 'background' && this.evaluationProblem() === null;
  }

  /** Read (once) and keep the held-out batches if they fit HELD_OUT_CACHE_BYTES. */
  warmHeldOut(): Promise<ActivationBatch[] | null> {
    const b = this.batcher;
    if (!b || this.evaluationProblem()) return Promise.resolve(null);
    if (!this.heldOutCache) {
      const max = this.o.maxEvalBatches ?? MAX_EVAL_BATCHES;
      this.heldOutCache = (async () => {
        const out: ActivationBatch[] = [];
        let bytes = 0;
        for await (const batch of limitBatches(b, max)) {
          bytes += batch.x.byteLength + batch.start.byteLength * 2;
          if (bytes > HELD_OUT_CACHE_BYTES) return null;
          out.push(batch);
        }
        return out;
      })()
        .catch(() => null)
        .then((c) => (this.heldOutReady = c));
    }
    return this.heldOutCache;
  }

  /** Evaluate now, or right after the evaluation in progress. Resolves when its event was sent. */
  evaluate(): Promise<void> {
    if (this.evalRun) {
      this.evalAgain = true;
      return this.evalRun;
    }
    const p = (async () => {
      do {
        this.evalAgain = false;
        await this.evaluateOnce();
      } while (this.evalAgain && !this.signal.aborted);
    })().finally(() => {
      this.evalRun = null;
    });
    this.evalRun = p;
    return p;
  }

  /** The run ended without a step (a paused run stopped): evaluate it unless this step already was. */
  evaluateAtEnd(): Promise<void> {
    const step = this.closed ? 0 : this.trainer.step;
    if (this.lastEvaluated === step || step === 0) return this.evaluationSettled();
    this.lastEvaluated = step;
    return this.evaluate();
  }

  /** Resolves when no evaluation is in progress or queued. */
  async evaluationSettled(): Promise<void> {
    while (this.evalRun) await this.evalRun;
  }

  private async evaluateOnce(): Promise<void> {
    if (this.signal.aborted || this.closed) return;
    const trainer = this.trainer;
    let step = trainer.step;
    const problem = this.evaluationProblem();
    if (problem) {
      this.emit({ type: 'evaluationFailed', step, message: problem });
      return;
    }
    const b = this.batcher!;
    const tokensSeen = this.tokens;
    this.emit({ type: 'evaluating', step });
    const t0 = this.o.now();
    try {
      const gt = groundTruthOf(b);
      // The decoder is read right after the first group's forward passes (evaluateHeldOut calls W_dec
      // then), so mmcs is of the weights the other metrics are of; `step` is the step those passes saw.
      let stepEnd = step;
      const max = this.o.maxEvalBatches ?? MAX_EVAL_BATCHES;
      const mem = this.heldOutReady;
      if (!mem && this.o.evaluation === 'background') void this.warmHeldOut();
      const result = await evaluateHeldOut(
        (x) => trainer.forward(x),
        () => mem ?? limitBatches(b, max),
        {
          d_sae: this.cfg.d_sae,
          evalForward: trainer.evalForward?.bind(trainer),
          clusterK: this.o.clusterK?.() ?? 0,
          onSubmit: (g) => {
            if (g === 0) step = trainer.step;
            stepEnd = trainer.step;
          },
          groundTruth: gt
            ? { trueDict: gt.trueDictionary, F: gt.F, W_dec: () => trainer.getWeights().then((w) => w.W_dec) }
            : undefined,
          // Matryoshka / T-SAE: explained variance per nested prefix (SPEC §11), from the same weights.
          ...prefixEvalOptions(this.cfg, () => trainer.getWeights()),
        },
      );
      if (this.signal.aborted) return;
      const evaluation: SessionEvaluation = { step, stepEnd, tokensSeen, ms: this.o.now() - t0, result };
      this.latestEvaluation = evaluation;
      this.emit({ type: 'evaluated', evaluation });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.emit({ type: 'evaluationFailed', step, message: `Evaluation at step ${step} failed: ${msg}` });
    }
  }

  /** The checkpoint's metadata as of now (the data position and scale come from the batcher). */
  checkpointMeta(extra: Record<string, unknown>): Omit<Checkpoint, 'trainer'> {
    const b = this.batcher;
    if (!b) throw new Error('This run’s data cannot save its position (no batcher).');
    return {
      config: this.cfg,
      data_state: b.getState(),
      scaling_factor: b.scale,
      extra,
      created_at: new Date().toISOString(),
    };
  }

  /**
   * One parameter of the trainer (W_enc, b_enc, W_dec, b_dec, log_threshold; BatchTopK's θ as
   * topk_threshold [1]), read back alone where the
   * trainer can (exports of large SAEs: one tensor in memory), else from its weights. A fresh array.
   */
  async readParameter(
    name: 'W_enc' | 'b_enc' | 'W_dec' | 'b_dec' | 'log_threshold' | 'topk_threshold',
  ): Promise<Float32Array> {
    const t = this.trainer;
    if (t.readStateTensor) return t.readStateTensor(name);
    const w = await t.getWeights();
    if (name === 'topk_threshold') return Float32Array.of(w.topk_threshold ?? 0); // BatchTopK's θ, [1]
    const a = w[name];
    if (!a) throw new Error(`This run has no ${name}.`);
    return a.slice();
  }

  /**
   * Write the checkpoint to `sink`, one tensor read back from the GPU and written at a time (peak extra
   * host memory: the largest tensor). Returns the step it is of.
   */
  async writeCheckpoint(sink: ByteSink, extra: Record<string, unknown> = {}): Promise<number> {
    return streamCheckpoint(this.trainer, this.checkpointMeta(extra), sink);
  }
}
