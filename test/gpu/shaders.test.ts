// Every shader in shaders/ compiles on the device (Dawn's WGSL front end) with no errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilationErrors } from '../../src/gpu/kernel';
import { PARAMS_BYTES } from '../../src/sae/gpu/layout';
import { withSaeStructs } from '../../src/sae/gpu/saePasses';
import { getTestGpu } from '../helpers/dawn';

const dir = join(__dirname, '../../shaders');

describe('WGSL compiles', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl')))
    it(file, async () => {
      const { device } = await getTestGpu();
      const code = readFileSync(join(dir, file), 'utf8');
      // The SAE kernels get the shared structs put in front (saePasses.ts); the others stand alone.
      const full =
        /\b(Params|Block)\b/.test(code) && file !== 'sae_common.wgsl' ? withSaeStructs(code) : code;
      expect(await compilationErrors(device, full)).toEqual([]);
    });
});

// The SAE structs are written once (shaders/sae_common.wgsl); the GEMM kernels' Gemm struct is written
// out in each GEMM file (gemm_*.wgsl). Copies must stay identical, and Params must match the host layout
// (src/sae/gpu/layout.ts).
describe('shared WGSL structs', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));
  // Field names and types only (comments and spacing may differ).
  const struct = (code: string, name: string) => {
    const m = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(code);
    return m ? m[1].replace(/\/\/.*$/gm, '').replace(/\s+/g, '') : null;
  };
  for (const name of ['Params', 'Block', 'Gemm']) {
    it(name, () => {
      const found = files
        .map((f) => [f, struct(readFileSync(join(dir, f), 'utf8'), name)] as const)
        .filter(([, s]) => s !== null);
      // Params and Block: exactly one definition, in sae_common.wgsl; Gemm: every GEMM file.
      if (name === 'Gemm') expect(found.map(([f]) => f)).toEqual(files.filter((f) => f.startsWith('gemm_')));
      else expect(found.map(([f]) => f)).toEqual(['sae_common.wgsl']);
      for (const [f, s] of found) expect(s, f).toBe(found[0][1]);
      if (name === 'Params') expect(found[0][1]!.split(',').filter(Boolean).length * 4).toBe(PARAMS_BYTES);
    });
  }
});
