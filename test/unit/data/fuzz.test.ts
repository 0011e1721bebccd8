// Fuzzing (issue 4): mutate valid files ≥ 10 000 times; the parsers must only ever return data or a
// DataFileError — never another exception, never a hang (the test's time limit catches loops).
// Mutations: byte flips, truncation, inserted/deleted bytes, a random u32 overwritten with an extreme
// value (lengths, offsets, counts are u32/u64 fields in every format), ASCII digits changed in text
// headers (npy dict, safetensors JSON).
import { describe, expect, it } from 'vitest';
import type { Scratch } from '../../../src/data/scratch';
import { bytesByteSource, type ByteSource } from '../../../src/data/byteSource';
import { openDataset } from '../../../src/data/dataset';
import { DataFileError } from '../../../src/data/errors';
import { Rng } from '../../../src/data/rng';
import { fuzzSeeds } from '../../fixtures/data/badFiles';

const CASES = Number(process.env.TEMPOSAE_FUZZ_CASES ?? 10_000);

function mutate(src: Uint8Array, r: Rng): Uint8Array {
  const b = src.slice();
  switch (r.int(6)) {
    case 0: {
      const n = 1 + r.int(8);
      for (let i = 0; i < n; i++) b[r.int(b.length)] = r.int(256);
      return b;
    }
    case 1:
      return b.subarray(0, r.int(b.length));
    case 2: {
      const at = r.int(b.length + 1);
      const ins = Uint8Array.from({ length: 1 + r.int(16) }, () => r.int(256));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      return out;
    }
    case 3: {
      const at = r.int(b.length);
      const n = 1 + r.int(16);
      const out = new Uint8Array(b.length - Math.min(n, b.length - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + n), at);
      return out;
    }
    case 4: {
      if (b.length < 4) return b;
      const at = r.int(b.length - 3);
      const vals = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, r.nextU32(), 0xfffffffe, 8];
      new DataView(b.buffer).setUint32(at, vals[r.int(vals.length)], r.next() < 0.8);
      return b;
    }
    default: {
      // Change digits in the first 300 bytes (text headers).
      const lim = Math.min(300, b.length);
      for (let k = 0; k < 3; k++) {
        const at = r.int(lim);
        if (b[at] >= 0x30 && b[at] <= 0x39) b[at] = 0x30 + r.int(10);
        else if (r.next() < 0.3) b[at] = [0x39, 0x2c, 0x22, 0x5d, 0x29][r.int(5)];
      }
      return b;
    }
  }
}

/** Scratch files in memory (the streaming-inflate path without touching the disk). */
function memoryScratch(): Scratch {
  const files = new Map<string, Uint8Array>();
  return {
    reuse: async (key, size) => {
      const b = files.get(key);
      return b && b.length === size ? bytesByteSource(b, key) : null;
    },
    create: async (key) => {
      const parts: Uint8Array[] = [];
      return {
        write: async (b) => void parts.push(b.slice()),
        finish: async () => {
          const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
          let o = 0;
          for (const p of parts) all.set(p, (o += p.length) - p.length);
          files.set(key, all);
          return bytesByteSource(all, key);
        },
        abort: async () => {},
      };
    },
  };
}

describe('fuzzing the parsers', () => {
  it(`${CASES} mutated files give data or a DataFileError, nothing else`, async () => {
    const seeds = fuzzSeeds();
    const r = new Rng(Number(process.env.TEMPOSAE_FUZZ_SEED ?? 20261125), 9);
    const outcomes = { data: 0, error: 0 };
    const t0 = performance.now();
    for (let c = 0; c < CASES; c++) {
      const seed = seeds[c % seeds.length];
      const bytes = mutate(seed.bytes, r);
      const files: ByteSource[] = [bytesByteSource(bytes, seed.name), ...(seed.extra ?? [])];
      try {
        // Every other round over the seeds sends deflated members through the streaming scratch path (cap 64 bytes).
        const src = await openDataset(
          files,
          Math.floor(c / seeds.length) % 2
            ? { maxInflateBytes: 64, scratch: memoryScratch(), folderName: 'f' }
            : { maxInflateBytes: 1 << 20, folderName: 'f' },
        );
        const n = src.numSequences;
        const idx = [0, n - 1, r.int(n)];
        const out = await src.readSequences(idx);
        expect(out.x.length).toBe(idx.length * src.seqLen * src.d);
        outcomes.data++;
      } catch (e) {
        if (!(e instanceof DataFileError)) {
          throw new Error(
            `case ${c} (${seed.name}): ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`,
          );
        }
        outcomes.error++;
      }
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `fuzz: ${CASES} cases in ${secs.toFixed(1)} s — ${outcomes.data} parsed, ${outcomes.error} DataFileErrors`,
    );
    // Both outcomes must occur, or the mutations are not exercising anything.
    expect(outcomes.data).toBeGreaterThan(CASES / 20);
    expect(outcomes.error).toBeGreaterThan(CASES / 20);
  });
});
