// ZipStreamWriter: an archive written entry by entry (data descriptors, central directory at the end)
// unzips to the same files with fflate (the app's importer) and with Python's zipfile, whose testzip()
// checks every CRC-32; names keep their UTF-8.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unzipFolder } from '../../../src/io/zip';
import { ZipStreamWriter } from '../../../src/io/zipStream';

async function zip(files: Map<string, Uint8Array>, chunk: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const z = new ZipStreamWriter({ write: (b) => void parts.push(b.slice()) });
  for (const [name, bytes] of files)
    await z.add(name, async (sink) => {
      for (let o = 0; o < bytes.length; o += chunk) await sink.write(bytes.subarray(o, o + chunk));
    });
  const n = await z.finish();
  const out = Buffer.concat(parts);
  expect(out.length).toBe(n);
  return new Uint8Array(out);
}

describe('streamed zip', () => {
  const files = new Map<string, Uint8Array>([
    ['run/cfg.json', new TextEncoder().encode('{"d_in": 4}\n')],
    ['run/sae_weights.safetensors', new Uint8Array(10_000).map((_, i) => (i * 31) % 251)],
    ['run/empty.txt', new Uint8Array(0)],
    ['run/λ2-sweep.csv', new TextEncoder().encode('step,λ2\n1,0.02\n')],
  ]);
  it('unzips to the same files (fflate), whatever the part sizes', async () => {
    for (const chunk of [1, 7, 4096]) {
      const back = unzipFolder(await zip(files, chunk), 'x.zip');
      expect([...back.keys()].sort()).toEqual([...files.keys()].filter((k) => !k.endsWith('/')).sort());
      for (const [k, v] of files) expect(Buffer.from(back.get(k)!).equals(Buffer.from(v)), k).toBe(true);
    }
  });
  it("Python's zipfile reads it and every CRC checks", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'temposae-zip-'));
    try {
      const f = path.join(dir, 'a.zip');
      writeFileSync(f, await zip(files, 333));
      const py =
        'import sys, zipfile, hashlib; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; ' +
        'print(" ".join(f"{i.filename}:{i.file_size}:{hashlib.sha1(z.read(i)).hexdigest()[:8]}" for i in z.infolist()))';
      let out: string;
      try {
        out = execFileSync('python3', ['-c', py, f], { encoding: 'utf8' }).trim();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // no Python on this machine
        throw e;
      }
      const { createHash } = await import('node:crypto');
      const want = [...files]
        .map(([k, v]) => `${k}:${v.length}:${createHash('sha1').update(v).digest('hex').slice(0, 8)}`)
        .join(' ');
      expect(out).toBe(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
