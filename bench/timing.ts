// Wall-clock time per training step, GPU work included: `warmup` untimed steps, a readback so the
// queue is empty, then `steps` steps and one awaited readback of the last step's result. Awaiting the
// readback is what makes GPU time count: both engines only enqueue work in step().
// `interleavedWindows` alternates the engines window by window, so on a shared, noisy machine (this
// one has 2 cores for several users) both see the same load; the best window of each is reported.

export interface StepEngine {
  step(): void;
  /** Resolves when the GPU has finished every step enqueued so far (a readback of the last one). */
  sync(): Promise<unknown>;
}

export async function msPerStep(engine: StepEngine, warmup: number, steps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) engine.step();
  if (warmup > 0) await engine.sync();
  if (steps === 0) return 0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) engine.step();
  await engine.sync();
  return (performance.now() - t0) / steps;
}

/** `repeats` timed windows of `steps` steps per engine, alternating engines; ms per step of each window. */
export async function interleavedWindows(
  engines: StepEngine[],
  warmup: number,
  steps: number,
  repeats: number,
): Promise<number[][]> {
  for (const e of engines) await msPerStep(e, warmup, 0);
  const windows: number[][] = engines.map(() => []);
  for (let r = 0; r < repeats; r++)
    for (const [i, e] of engines.entries()) windows[i].push(await msPerStep(e, 0, steps));
  return windows;
}
