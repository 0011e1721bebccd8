// The CLI's output folder is the app's export format (a SAELens v6 folder, src/io/exportSae.ts) plus
// checkpoints/step-<9 digits>.safetensors (src/io/checkpoint.ts) and eval.json. Files are written to a
// temporary name and renamed, so an interrupted write never leaves a half file under the real name.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import {
  openCheckpoint,
  parseCheckpoint,
  type ByteReader,
  type ByteSink,
  type Checkpoint,
  type OpenedCheckpoint,
} from '../io/checkpoint';

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

/** Write a file part by part as `fill` produces them (streamed checkpoints), then rename it into place. */
export async function writeFileAtomicStream(
  file: string,
  fill: (sink: ByteSink) => Promise<unknown>,
): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    await fill({
      write(p) {
        for (let o = 0; o < p.length;) o += writeSync(fd, p, o, p.length - o);
      },
    });
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** Random-access reads of a file through its descriptor (only the bytes asked for are read). */
export function fileReader(file: string): ByteReader & { close(): void } {
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? out : out.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
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

/**
 * The newest checkpoint whose header passes the strict reader and whose length is exact (a damaged
 * newest one falls back to the one before), opened for a streamed restore; close() when restored.
 */
export async function openLatestCheckpoint(
  dir: string,
): Promise<{ checkpoint: OpenedCheckpoint; file: string; skipped: string[]; close(): void } | null> {
  const skipped: string[] = [];
  for (const c of listCheckpoints(dir).reverse()) {
    const r = fileReader(c.file);
    try {
      return { checkpoint: await openCheckpoint(r, c.file), file: c.file, skipped, close: r.close };
    } catch (e) {
      r.close();
      skipped.push((e as Error).message);
    }
  }
  return null;
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
