// Running CLI commands in-process on the test worker's Dawn device, capturing stdout/stderr.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { getTestGpu } from '../helpers/dawn';

export interface CliRun {
  code: number;
  out: string[];
  err: string;
  /** The JSON object on the last stdout line. */
  json: Record<string, unknown>;
}

export async function cli(argv: string[]): Promise<CliRun> {
  const gpu = await getTestGpu();
  const out: string[] = [];
  let err = '';
  const code = await main(argv, {
    gpu,
    out: (l) => out.push(l),
    err: { write: (t) => (err += t), isTTY: false },
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out[out.length - 1] ?? '{}');
  } catch {
    // left empty: the test asserts on it
  }
  return { code, out, err, json };
}

export function tempDir(tag: string): string {
  return mkdtempSync(path.join(tmpdir(), `temposae-${tag}-`));
}

/** Small shapes so a step takes milliseconds on SwiftShader. */
export const TINY = [
  '--dataset',
  'builtin:tiny',
  '--d-sae',
  '32',
  '--batch-seqs',
  '4',
  '--seq-len',
  '32',
  '--metrics-every',
  '5',
  '--eval-every',
  '0',
];
