// ByteSource over a file on disk (CLI, tests, bench). Node only: the browser uses blobByteSource.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkRange, type ByteSource } from './byteSource';

export async function fileByteSource(path: string): Promise<ByteSource> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  const name = basename(path);
  const src: ByteSource = {
    name,
    size,
    async read(offset, length) {
      checkRange(src, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      checkRange({ name, size: offset + done }, offset, length);
      return out;
    },
    async close() {
      await fh.close();
    },
  };
  return src;
}
