// bench flags that the bundled benchmark relies on: --case picks one trainer case, --adapter forces
// SwiftShader; both refuse bad values in words.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/cases';

describe('bench --case / --adapter', () => {
  it('--case D,M,TOKENS is one case of S = TOKENS/128 sequences', () => {
    expect(parseBenchArgs(['--case', '64,256,384']).only).toEqual({
      d: 64,
      d_sae: 256,
      tokens: 384,
      S: 3,
      T: 128,
    });
    expect(parseBenchArgs(['--case=8,16,128']).only).toMatchObject({ d: 8, d_sae: 16, tokens: 128 });
    expect(parseBenchArgs([]).only).toBeUndefined();
  });

  it('refuses a malformed case and an unknown adapter', () => {
    expect(() => parseBenchArgs(['--case', '64,256'])).toThrow(/--case needs D,M,TOKENS/);
    expect(() => parseBenchArgs(['--case', '64,256,100'])).toThrow(/multiple of 128/);
    expect(() => parseBenchArgs(['--adapter', 'metal'])).toThrow(/--adapter must be default or swiftshader/);
    expect(parseBenchArgs(['--adapter', 'swiftshader']).adapter).toBe('swiftshader');
  });
});
