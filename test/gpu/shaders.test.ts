// Every shader in shaders/ compiles on the device (Dawn's WGSL front end) with no errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilationErrors } from '../../src/gpu/kernel';
import { getTestGpu } from '../helpers/dawn';

const dir = join(__dirname, '../../shaders');

describe('WGSL compiles', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl')))
    it(file, async () => {
      const { device } = await getTestGpu();
      expect(await compilationErrors(device, readFileSync(join(dir, file), 'utf8'))).toEqual([]);
    });
});
