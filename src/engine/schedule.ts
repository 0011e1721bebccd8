// What a run does after a training step, decided in one place for the app and the CLI: read the step's
// metrics back, evaluate on the held-out split, write a checkpoint. A pure function of the step, the
// config's cadences and how the run ends after this step, so both front ends train, evaluate and save
// at the same steps (test/unit/engine/schedule.test.ts).
import type { TrainConfig } from '../sae/config';

/**
 * How the run goes on after this step:
 *   none   it keeps training;
 *   step   a single step asked for by the user (the run pauses after it, nothing else happens);
 *   pause  it pauses here and can continue (app: Pause; CLI: --stop-at, Ctrl-C);
 *   stop   it ends early by the user's choice (app: Stop);
 *   done   it reached its token budget.
 */
export type StepEnd = 'none' | 'step' | 'pause' | 'stop' | 'done';

export interface Due {
  /** Read the step's metrics back (the charts, the CLI's progress line and history). */
  metrics: boolean;
  /** Run the held-out evaluation. */
  evaluate: boolean;
  /** Write a checkpoint (the state a resume continues from exactly). */
  checkpoint: boolean;
}

export type Cadence = Pick<TrainConfig, 'metrics_every' | 'eval_every' | 'checkpoint_every'>;

/**
 * What is due after step `step` (steps done, ≥ 1).
 *   metrics     every metrics_every steps, and whenever the loop leaves this step (it shows where it is);
 *   evaluate    every eval_every steps (0: never on a cadence), and when the run ends (stop, done); not
 *               again for a step already evaluated (`lastEvaluated`);
 *   checkpoint  every checkpoint_every steps (0: never on a cadence), and whenever the loop stops with
 *               the trainer and the data position in agreement (pause, stop, done); not for a single step.
 */
export function dueAt(step: number, c: Cadence, end: StepEnd, lastEvaluated: number | null = null): Due {
  if (!(step >= 1)) return { metrics: false, evaluate: false, checkpoint: false };
  const on = (every: number) => every > 0 && step % every === 0;
  const ends = end === 'stop' || end === 'done';
  return {
    metrics: end !== 'none' || step % Math.max(1, c.metrics_every) === 0,
    evaluate: (on(c.eval_every) || ends) && lastEvaluated !== step,
    checkpoint: end !== 'step' && (on(c.checkpoint_every) || end !== 'none'),
  };
}

/** True when the run crossed a multiple of eval_every since its last evaluation (readbacks that skip steps). */
export function evaluationDue(step: number, every: number, last: number | undefined): boolean {
  if (every <= 0 || step <= 0) return false;
  return Math.floor(step / every) > Math.floor((last ?? 0) / every);
}
