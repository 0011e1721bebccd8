// Wall-clock time per training step, GPU work included: `warmup` untimed steps, a readback so the
// queue is empty, then `steps` steps and one awaited readback of the last step's result. Awaiting the
// readback is what makes GPU time count: both engines only enqueue work in step().

export interface StepEngine {
  step(): void;
  /** Resolves when the GPU has finished every step enqueued so far (a readback of the last one). */
  sync(): Promise<unknown>;
}

export async function msPerStep(engine: StepEngine, warmup: number, steps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) engine.step();
  if (warmup > 0) await engine.sync();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) engine.step();
  await engine.sync();
  return (performance.now() - t0) / steps;
}
