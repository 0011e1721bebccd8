// Every shader in shaders/ compiles on the device (Dawn's WGSL front end) with no errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gemmUniform, withGemmStruct } from '../../src/gpu/gemm';
import { compilationErrors } from '../../src/gpu/kernel';
import { PARAMS_BYTES } from '../../src/sae/gpu/layout';
import { withSaeStructs } from '../../src/sae/gpu/saePasses';
import { withMethodStructs } from '../../src/sae/gpu/methodKernels';
import { getTestGpu } from '../helpers/dawn';

const dir = join(__dirname, '../../shaders');

describe('WGSL compiles', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl')))
    it(file, async () => {
      const { device } = await getTestGpu();
      const code = readFileSync(join(dir, file), 'utf8');
      // The SAE kernels get the shared structs put in front (saePasses.ts), the GEMM kernels the Gemm
      // struct (gemm.ts); the others stand alone.
      const full =
        /\b(Params|Block)\b/.test(code) && file !== 'sae_common.wgsl'
          ? withSaeStructs(code)
          : /\bGemm\b/.test(code) && file !== 'gemm_common.wgsl'
            ? withGemmStruct(code)
            : /\b(Mat|Nce|Btk)\b/.test(code) && file !== 'method_common.wgsl'
              ? withMethodStructs(code) // issue-14 method kernels (src/sae/gpu/methodKernels.ts)
              : code;
      expect(await compilationErrors(device, full)).toEqual([]);
    });
});

// The shared structs are written once: the SAE kernels' in shaders/sae_common.wgsl, the GEMM kernels'
// in shaders/gemm_common.wgsl. Params must match the host layout (src/sae/gpu/layout.ts), Gemm the 16
// words of gemmUniform (src/gpu/gemm.ts).
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
      // Exactly one definition: Params and Block in sae_common.wgsl, Gemm in gemm_common.wgsl.
      expect(found.map(([f]) => f)).toEqual([name === 'Gemm' ? 'gemm_common.wgsl' : 'sae_common.wgsl']);
      if (name === 'Params') expect(found[0][1]!.split(',').filter(Boolean).length * 4).toBe(PARAMS_BYTES);
      if (name === 'Gemm')
        expect(found[0][1]!.split(',').filter(Boolean).length).toBe(
          gemmUniform({ layout: 'NN', M: 1, N: 1, K: 1 }, false).length,
        );
    });
  }
});
