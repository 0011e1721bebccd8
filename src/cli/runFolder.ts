// The CLI's output folder is the app's export format (a SAELens v6 folder, src/io/exportSae.ts) plus
// checkpoints/step-<9 digits>.safetensors (src/io/checkpoint.ts) and eval.json. Files are written to a
// temporary name and renamed, so an interrupted write never leaves a half file under the real name.
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { parseCheckpoint, type Checkpoint } from '../io/checkpoint';

export const CHECKPOINT_DIR = 'checkpoints';

/** Write `data` (bytes, text, or parts laid end to end) under a temporary name, then rename it. */
export function writeFileAtomic(file: string, data: Uint8Array | Uint8Array[] | string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  if (Array.isArray(data)) {
    const fd = openSync(tmp, 'w');
    try {
      // write(2) may write less than asked (Linux caps one call near 2 GB): loop until done.
      for (const p of data) for (let o = 0; o < p.length;) o += writeSync(fd, p, o, p.length - o);
    } finally {
      closeSync(fd);
    }
  } else writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export function writeFolder(dir: string, files: Map<string, Uint8Array>): void {
  for (const [name, bytes] of files) writeFileAtomic(path.join(dir, name), bytes);
}

/** The files directly in `dir` (not sub-folders), as name → bytes. */
export function readFolder(dir: string): Map<string, Uint8Array> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir} is not a folder`);
  const out = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isFile() && !name.includes('.tmp-')) out.set(name, new Uint8Array(readFileSync(p)));
  }
  return out;
}

export function checkpointPath(dir: string, step: number): string {
  return path.join(dir, CHECKPOINT_DIR, `step-${String(step).padStart(9, '0')}.safetensors`);
}

/** Checkpoint files of a run folder, oldest first. */
export function listCheckpoints(dir: string): { step: number; file: string }[] {
  const cdir = path.join(dir, CHECKPOINT_DIR);
  if (!statSync(cdir, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(cdir)
    .map((n) => /^step-(\d+)\.safetensors$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), file: path.join(cdir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/** The newest checkpoint that passes the strict reader (a damaged newest one falls back to the one before). */
export function loadLatestCheckpoint(
  dir: string,
): { checkpoint: Checkpoint; file: string; skipped: string[] } | null {
  const skipped: string[] = [];
  for (const c of listCheckpoints(dir).reverse()) {
    try {
      return {
        checkpoint: parseCheckpoint(new Uint8Array(readFileSync(c.file)), c.file),
        file: c.file,
        skipped,
      };
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  return null;
}
