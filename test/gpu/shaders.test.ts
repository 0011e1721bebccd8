// Every shader in shaders/ compiles on the device (Dawn's WGSL front end) with no errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gemmBindings, gemmKernel, gemmUniform, withGemmStruct } from '../../src/gpu/gemm';
import {
  bindNamed,
  compilationErrors,
  createNamedKernel,
  declaredBindings,
  type NamedKernel,
} from '../../src/gpu/kernel';
import { DEFAULT_CONFIG } from '../../src/sae/config';
import { packParams, PARAMS_BYTES, PARAMS_FIELDS, paramsStructWgsl } from '../../src/sae/gpu/layout';
import { withSaeStructs } from '../../src/sae/gpu/saePasses';
import { withMethodStructs } from '../../src/sae/gpu/methodKernels';
import { maskedBindings, sparseKernel, spmmBindings } from '../../src/sae/gpu/sparseGemm';
import { getTestGpu } from '../helpers/dawn';

const dir = join(__dirname, '../../shaders');

/** What a kernel provides to a library file (shaders/lib_*.wgsl says what it needs). */
const LIBRARY_STUBS: Record<string, string> = {
  'lib_reduce.wgsl': 'const WG = 64u;\n',
  'lib_select.wgsl':
    'const WG = 64u;\nfn select_candidate(i: u32) -> bool { return true; }\n' +
    'fn select_key(b: u32, i: u32) -> u32 { return b + i; }\n',
};

describe('WGSL compiles', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl')))
    it(file, async () => {
      const { device } = await getTestGpu();
      // A library file (lib_*.wgsl) is compiled as a kernel sees it: with the WG and hooks it expects.
      const code = (LIBRARY_STUBS[file] ?? '') + readFileSync(join(dir, file), 'utf8');
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

// The shared structs are written once: the SAE kernels' Block in shaders/sae_common.wgsl, the GEMM
// kernels' Gemm in shaders/gemm_common.wgsl; the SAE Params struct is generated from PARAMS_FIELDS
// (src/sae/gpu/layout.ts) and written by no file. Params must match the host layout, Gemm the 16 words
// of gemmUniform (src/gpu/gemm.ts).
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
      // Exactly one definition: Block in sae_common.wgsl, Gemm in gemm_common.wgsl; Params in none (generated).
      expect(found.map(([f]) => f)).toEqual(
        name === 'Params' ? [] : [name === 'Gemm' ? 'gemm_common.wgsl' : 'sae_common.wgsl'],
      );
      if (name === 'Params') {
        const fields = struct(paramsStructWgsl(), 'Params')!.split(',').filter(Boolean);
        expect(fields.length * 4).toBe(PARAMS_BYTES);
        expect(fields.slice(0, PARAMS_FIELDS.length)).toEqual(
          PARAMS_FIELDS.map((f) => `${f.name}:${f.type}`),
        );
      }
      if (name === 'Gemm')
        expect(found[0][1]!.split(',').filter(Boolean).length).toBe(
          gemmUniform({ layout: 'NN', M: 1, N: 1, K: 1 }, false).length,
        );
    });
  }
});

// The generated struct and the packer come from one table: a kernel that copies every field of Params
// out reads back exactly what packParams wrote, field by field (u32 as bits, f32 as values).
describe('Params uniform', () => {
  it('the WGSL struct reads what packParams writes, in every field', async () => {
    const { device } = await getTestGpu();
    const n = PARAMS_BYTES / 4;
    const copies = PARAMS_FIELDS.map(
      (f, i) => `  out[${i}] = ${f.type === 'u32' ? `p.${f.name}` : `bitcast<u32>(p.${f.name})`};`,
    ).join('\n');
    const code = withSaeStructs(`
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() {
${copies}
}`);
    const kernel = createNamedKernel(device, { label: 'params-copy', code });
    expect(kernel.bindings).toEqual(['p', 'out']);
    const cfg = { ...DEFAULT_CONFIG, architecture: 'topk' as const, k: 7, recon_loss: 'norm' as const };
    const bytes = packParams(cfg, { N: 96, T: 12, nValid: 90, lr: 3e-3, step: 5 });
    const uni = device.createBuffer({
      size: PARAMS_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const out = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({
      size: n * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(uni, 0, bytes);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindNamed(device, kernel, 'params-copy', { p: uni, out }));
    pass.dispatchWorkgroups(1);
    pass.end();
    enc.copyBufferToBuffer(out, 0, read, 0, n * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const got = new Uint32Array(read.getMappedRange().slice(0));
    read.unmap();
    expect(Array.from(got.subarray(0, PARAMS_FIELDS.length))).toEqual(
      Array.from(new Uint32Array(bytes).subarray(0, PARAMS_FIELDS.length)),
    );
    // Spot checks against the config (so a table whose rows were all shifted would still fail).
    const f32 = new Float32Array(got.buffer);
    const at = (name: string) => PARAMS_FIELDS.findIndex((f) => f.name === name);
    expect([got[at('N')], got[at('T')], got[at('k')], got[at('flags')], got[at('step')]]).toEqual([
      96, 12, 7, 1, 5,
    ]);
    expect(f32[at('inv_n')]).toBe(Math.fround(1 / 90));
    expect(f32[at('lr')]).toBe(Math.fround(3e-3));
    for (const b of [uni, out, read]) b.destroy();
  });
});

// Bindings are given by the names the shaders declare; every shader's declarations parse, and a wrong
// name is refused before any bind group is made.
describe('named bindings', () => {
  it('every shader declares bindings 0..n−1 with distinct names', () => {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl'))) {
      const names = declaredBindings(readFileSync(join(dir, file), 'utf8'), file);
      expect([file, new Set(names).size]).toEqual([file, names.length]);
    }
    expect(declaredBindings(readFileSync(join(dir, 'activate.wgsl'), 'utf8'))).toEqual([
      'p',
      'pre',
      'log_threshold',
      'rowflags',
      'f',
      'blk',
    ]);
    expect(() =>
      declaredBindings(
        '@group(0) @binding(0) var<uniform> a: u32;\n@group(0) @binding(2) var<uniform> b: u32;',
      ),
    ).toThrow(/no @binding\(1\)/);
  });

  // GemmOp (src/gpu/gemm.ts) and SparseGemmOp/MaskedNtOp (src/sae/gpu/sparseGemm.ts) bind their operands
  // by name (gemmBindings, spmmBindings, maskedBindings): every kernel accepts exactly those names, and a
  // kernel whose declaration is misspelt, or bindings with one left out, are refused naming it.
  it('the GEMM and sparse-product ops bind by the names their kernels declare', async () => {
    const { device } = await getTestGpu();
    const buf = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    const uni = device.createBuffer({ size: 64, usage: GPUBufferUsage.UNIFORM });
    const gemm = gemmBindings(uni, buf, buf, buf, buf);
    const spmm = { s: uni, ...spmmBindings(buf, buf, buf, buf) };
    const masked = { s: uni, ...maskedBindings(buf, buf, buf, buf) };
    const kernels: [string, NamedKernel, Record<string, GPUBuffer>][] = [
      ...(['blocked', 'blocked_vec4', 'blocked_bvec4', 'blocked_kvec4', 'tiled'] as const).map(
        (k) => [k, gemmKernel(device, k), gemm] as [string, NamedKernel, Record<string, GPUBuffer>],
      ),
      ['spmm', sparseKernel(device, 'spmm', 32), spmm],
      ['masked_nt', sparseKernel(device, 'masked_nt', 32), masked],
      ['masked_nt_vec4', sparseKernel(device, 'masked_nt_vec4', 32), masked],
    ];
    for (const [name, kernel, bindings] of kernels) {
      expect([name, [...kernel.bindings].sort()]).toEqual([name, Object.keys(bindings).sort()]);
      expect(() => bindNamed(device, kernel, `${name}.bind`, bindings)).not.toThrow();
      // One binding left out (the bias, or the mask): refused, naming it.
      const { [name.startsWith('masked') ? 'M' : 'bias']: _left, ...missing } = bindings;
      expect(() => bindNamed(device, kernel, `${name}.bind`, missing)).toThrow(/; missing (bias|M)$/);
    }
    // A kernel whose right operand is named otherwise (declaration and uses) is refused with the op's bindings.
    const misspelt = (file: string, code: (c: string) => string) =>
      createNamedKernel(device, {
        label: file,
        code: code(readFileSync(join(dir, file), 'utf8').replace(/\bB\b/g, 'Bmat')),
        constants: file.startsWith('topk') ? { WG: 32 } : undefined,
      });
    expect(() => bindNamed(device, misspelt('gemm_blocked.wgsl', withGemmStruct), 'op.bind', gemm)).toThrow(
      /op\.bind: the bindings do not match gemm_blocked\.wgsl's declarations \(g, A, Bmat, C, bias\); missing Bmat; not declared: B/,
    );
    expect(() =>
      bindNamed(
        device,
        misspelt('topk_spmm.wgsl', (c) => c),
        'op.bind',
        spmm,
      ),
    ).toThrow(/missing Bmat; not declared: B/);
    expect(() =>
      bindNamed(
        device,
        misspelt('topk_masked_nt.wgsl', (c) => c),
        'op.bind',
        masked,
      ),
    ).toThrow(/missing Bmat; not declared: B/);
    buf.destroy();
    uni.destroy();
  });

  it('bindNamed refuses a missing or an undeclared name, naming both', async () => {
    const { device } = await getTestGpu();
    const code = readFileSync(join(dir, 'center.wgsl'), 'utf8');
    const kernel = createNamedKernel(device, { label: 'center', code: withSaeStructs(code) });
    const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    expect(() => bindNamed(device, kernel, 'center.bind', { p: buf, x: buf, bdec: buf, xc: buf })).toThrow(
      /center\.bind: the bindings do not match center's declarations \(p, x, b_dec, xc\); missing b_dec; not declared: bdec/,
    );
    buf.destroy();
  });
});
