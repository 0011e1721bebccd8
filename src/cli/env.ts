// What a CLI command needs from the outside world, so tests can run commands in-process with their
// own GPU device and capture the output.
import type { GpuContext } from '../gpu/device';
import { flag, type ParsedArgs } from './args';
import { openCliGpu } from './gpu';
import type { ProgressSink } from './progress';

export interface CliEnv {
  /** A device to use instead of opening one from --adapter (tests share theirs). */
  gpu?: GpuContext;
  /** One line to stdout (results; the last line is the JSON object). */
  out(line: string): void;
  /** Progress and notes (stderr). */
  err: ProgressSink;
}

export function nodeEnv(): CliEnv {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: { write: (t) => process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) },
  };
}

export function gpuFor(a: ParsedArgs, env: CliEnv): Promise<GpuContext> {
  return env.gpu ? Promise.resolve(env.gpu) : openCliGpu(flag(a, 'adapter'));
}

/** JSON for the last line: finite numbers as they are, NaN/Infinity as null (JSON has no NaN). */
export function jsonLine(o: unknown): string {
  return JSON.stringify(o, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}
