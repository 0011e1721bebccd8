// Every shader in shaders/ compiles on the device (Dawn's WGSL front end) with no errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilationErrors } from '../../src/gpu/kernel';
import { PARAMS_BYTES } from '../../src/sae/gpu/layout';
import { getTestGpu } from '../helpers/dawn';

const dir = join(__dirname, '../../shaders');

describe('WGSL compiles', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl')))
    it(file, async () => {
      const { device } = await getTestGpu();
      expect(await compilationErrors(device, readFileSync(join(dir, file), 'utf8'))).toEqual([]);
    });
});

// WGSL has no includes and we do not paste strings, so the shared structs are written out in each file.
// They must stay identical, and Params must match the host layout (src/sae/gpu/layout.ts).
describe('shared WGSL structs are identical in every file', () => {
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
      expect(found.length).toBeGreaterThan(1);
      for (const [f, s] of found) expect(s, f).toBe(found[0][1]);
      if (name === 'Params') expect(found[0][1]!.split(',').filter(Boolean).length * 4).toBe(PARAMS_BYTES);
    });
  }
});
