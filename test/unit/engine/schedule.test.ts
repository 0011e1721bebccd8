// dueAt: what follows a training step, the one schedule of the app and the CLI (src/engine/schedule.ts).
import { describe, expect, it } from 'vitest';
import { dueAt, type StepEnd } from '../../../src/engine/schedule';

const c = { metrics_every: 10, eval_every: 200, checkpoint_every: 500 };

/** The steps of a 1000-step run at which each thing is due, ending as `end` at the last step. */
function steps(total: number, end: StepEnd, cad = c) {
  const out = { metrics: [] as number[], evaluate: [] as number[], checkpoint: [] as number[] };
  let last: number | null = null;
  for (let s = 1; s <= total; s++) {
    const d = dueAt(s, cad, s === total ? end : 'none', last);
    if (d.metrics) out.metrics.push(s);
    if (d.evaluate) {
      out.evaluate.push(s);
      last = s;
    }
    if (d.checkpoint) out.checkpoint.push(s);
  }
  return out;
}

describe('dueAt', () => {
  it('a run to its budget: metrics every 10, evaluations every 200 and at the end, checkpoints every 500 and at the end', () => {
    const r = steps(1005, 'done');
    expect(r.metrics).toEqual([...Array.from({ length: 100 }, (_, i) => 10 * (i + 1)), 1005]);
    expect(r.evaluate).toEqual([200, 400, 600, 800, 1000, 1005]);
    expect(r.checkpoint).toEqual([500, 1000, 1005]);
  });
  it('the end on a cadence step is evaluated and saved once', () => {
    const r = steps(1000, 'done');
    expect(r.evaluate).toEqual([200, 400, 600, 800, 1000]);
    expect(r.checkpoint).toEqual([500, 1000]);
  });
  it('evaluation does not depend on metrics_every (it did in the app before: from readbacks)', () => {
    const a = steps(600, 'done', { ...c, metrics_every: 7 });
    const b = steps(600, 'done', { ...c, metrics_every: 1 });
    expect(a.evaluate).toEqual(b.evaluate);
    expect(a.evaluate).toEqual([200, 400, 600]);
  });
  it('pause: metrics and a checkpoint, no evaluation off the cadence; stop also evaluates', () => {
    expect(dueAt(37, c, 'pause')).toEqual({ metrics: true, evaluate: false, checkpoint: true });
    expect(dueAt(37, c, 'stop')).toEqual({ metrics: true, evaluate: true, checkpoint: true });
    expect(dueAt(37, c, 'stop', 37)).toEqual({ metrics: true, evaluate: false, checkpoint: true });
  });
  it('a single step reads its metrics, keeps the evaluation cadence, and never checkpoints', () => {
    expect(dueAt(3, c, 'step')).toEqual({ metrics: true, evaluate: false, checkpoint: false });
    expect(dueAt(200, c, 'step')).toEqual({ metrics: true, evaluate: true, checkpoint: false });
    expect(dueAt(500, c, 'step').checkpoint).toBe(false);
  });
  it('0 turns a cadence off (only at the end); metrics_every 0 counts as 1; nothing before step 1', () => {
    const off = { metrics_every: 0, eval_every: 0, checkpoint_every: 0 };
    expect(dueAt(400, off, 'none')).toEqual({ metrics: true, evaluate: false, checkpoint: false });
    expect(dueAt(400, off, 'done')).toEqual({ metrics: true, evaluate: true, checkpoint: true });
    expect(dueAt(0, c, 'done')).toEqual({ metrics: false, evaluate: false, checkpoint: false });
  });
});
