// Fuzzing the text readers (src/lm/text/documents.ts), as the model loaders are fuzzed: mutated .jsonl,
// .json and .parquet files give documents or a DataFileError, nothing else, and no hang.
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { Rng } from '../../../src/data/rng';
import { readDocuments } from '../../../src/lm/text';
import { mutate } from '../../fixtures/mutate';

const CASES = Number(process.env.TEMPOSAE_FUZZ_CASES ?? 3000);

describe('fuzzing the text readers', () => {
  it(`${CASES} mutated text files give documents or a DataFileError`, async () => {
    const docs = ['first document', 'second — é 日本', 'third\nwith a newline'];
    const enc = (s: string) => new TextEncoder().encode(s);
    const seeds = [
      { name: 'd.jsonl', bytes: enc(docs.map((text, i) => JSON.stringify({ id: i, text })).join('\n')) },
      { name: 'd.json', bytes: enc(JSON.stringify(docs.map((text) => ({ text })))) },
      {
        name: 'd.parquet',
        bytes: new Uint8Array(
          parquetWriteBuffer({
            columnData: [
              { name: 'id', data: Int32Array.of(0, 1, 2), type: 'INT32' },
              { name: 'text', data: docs, type: 'STRING' },
            ],
            rowGroupSize: 2,
          }),
        ),
      },
    ];
    const r = new Rng(Number(process.env.TEMPOSAE_FUZZ_SEED ?? 20261203), 11);
    const per = seeds.map(() => ({ data: 0, error: 0 }));
    for (let c = 0; c < CASES; c++) {
      const k = c % seeds.length;
      const bytes = mutate(seeds[k].bytes, r);
      try {
        const out: string[] = [];
        for await (const d of readDocuments(bytesByteSource(bytes, seeds[k].name), { chunkBytes: 16 })) {
          expect(typeof d).toBe('string');
          out.push(d);
        }
        per[k].data++;
      } catch (e) {
        if (!(e instanceof DataFileError))
          throw new Error(
            `case ${c} (${seeds[k].name}): ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`,
          );
        per[k].error++;
      }
    }
    console.log(`text fuzz: ${CASES} cases — ${JSON.stringify(per)}`);
    per.forEach((o, k) => {
      expect(o.data, seeds[k].name).toBeGreaterThan(0);
      expect(o.error, seeds[k].name).toBeGreaterThan(0);
    });
  });
});
