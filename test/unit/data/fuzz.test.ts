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
import { mutate } from '../../fixtures/mutate';

const CASES = Number(process.env.TEMPOSAE_FUZZ_CASES ?? 10_000);

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
