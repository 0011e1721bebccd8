// Scratch files in Node (CLI, tests): the OS temp folder. Written to a .part file and renamed when
// complete, so a file under the final name is always whole and can be reused by a later run.
import { mkdirSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileByteSource } from './nodeByteSource';
import type { Scratch } from './scratch';

export function nodeScratch(dir = path.join(tmpdir(), 'temposae-scratch')): Scratch {
  return {
    async reuse(key, size) {
      const file = path.join(dir, key);
      const st = await stat(file).catch(() => null);
      return st && st.size === size ? fileByteSource(file) : null;
    },
    async create(key) {
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, key);
      const part = `${file}.${process.pid}.part`;
      const fh = await open(part, 'w');
      return {
        async write(bytes) {
          let done = 0;
          while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
        },
        async finish() {
          await fh.close();
          await rename(part, file);
          return fileByteSource(file);
        },
        async abort() {
          await fh.close().catch(() => {});
          await rm(part, { force: true });
        },
      };
    },
  };
}
