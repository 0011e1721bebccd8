// The CLI's train / eval / export on the built-in dataset: the output folder is what the app imports,
// its files pass the strict checks, the final JSON line carries the SPEC §6 names, `eval` of the folder
// reproduces the training run's final held-out metrics, and input scaling folded into the export
// changes nothing scale-free (and mse by exactly 1/s²).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCheckpoints, readFolder } from '../../src/cli/runFolder';
import { parseCheckpoint } from '../../src/io/checkpoint';
import { importSaeFolder } from '../../src/io/importSae';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFolder } from '../../src/io/zip';
import { cli, tempDir, TINY } from './cli-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SPEC6 = [
  'explained_variance',
  'mse',
  'cossim',
  'l2_ratio',
  'relative_reconstruction_bias',
  'l0',
  'l1',
  'dead_count',
  'dense_count',
  'tv_ratio',
  'jaccard',
  'autocorr',
  'mean_run_length',
  'flip_rate',
  'mmcs',
  'recovered',
];
const SCALE_FREE = [
  'explained_variance',
  'cossim',
  'l2_ratio',
  'relative_reconstruction_bias',
  'l0',
  'dead_count',
  'tv_ratio',
  'jaccard',
  'flip_rate',
  'mmcs',
];

describe('npm run cli -- train / eval / export', () => {
  it('train on builtin:tiny writes a folder the app imports, with the same weights as the final checkpoint', async () => {
    const out = tempDir('train');
    dirs.push(out);
    const r = await cli(['train', ...TINY, '--steps', '6', '--l2', '0.05', '--seed', '3', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ command: 'train', status: 'done', step: 6 });
    for (const k of SPEC6) expect(typeof r.json[k], k).toBe('number');
    expect(r.err).toMatch(/\[#+\.*\] \d+\/6/); // the progress bar
    const files = readFolder(out);
    for (const f of [
      'cfg.json',
      'sae_weights.safetensors',
      'sparsity.safetensors',
      'history.json',
      'history_train.csv',
      'history_eval.csv',
      'eval.json',
    ])
      expect(files.has(f), f).toBe(true);
    // Strict checks pass (readSafetensors throws otherwise).
    readSafetensors(files.get('sae_weights.safetensors')!, 'sae_weights.safetensors');
    readSafetensors(files.get('sparsity.safetensors')!, 'sparsity.safetensors');
    const imp = importSaeFolder(files, out);
    expect(imp.format).toBe('temposae');
    expect(imp.config).toMatchObject({
      temporal_coefficient: 0.05,
      seed: 3,
      d_sae: 32,
      d_in: 16,
      doc_start_token_ids: [0],
    });
    expect(imp.steps).toBe(6);
    const ck = listCheckpoints(out);
    const last = parseCheckpoint(new Uint8Array(readFileSync(ck[ck.length - 1].file)), 'ck');
    expect(Array.from(imp.weights.W_enc)).toEqual(Array.from(last.trainer.weights.W_enc));
    expect(Array.from(imp.weights.W_dec)).toEqual(Array.from(last.trainer.weights.W_dec));
    expect(imp.history!.train.at(-1)!.step).toBe(6);
    expect(imp.history!.eval.at(-1)!.explained_variance).toBe(r.json.explained_variance);

    // eval of the folder on the same held-out split reproduces the run's final metrics.
    const e = await cli(['eval', '--sae', out, '--dataset', 'builtin:tiny']);
    expect(e.code, e.err).toBe(0);
    expect(e.json).toMatchObject({ command: 'eval', format: 'temposae', split: 'heldout' });
    for (const k of SPEC6) expect(e.json[k] as number, k).toBeCloseTo(r.json[k] as number, 5);

    // export --run --zip: the zip imports to the same SAE.
    const zip = path.join(out, '..', `${path.basename(out)}.zip`);
    dirs.push(zip);
    const x = await cli(['export', '--run', out, '--zip', zip]);
    expect(x.code, x.err).toBe(0);
    const fromZip = importSaeFolder(unzipFolder(new Uint8Array(readFileSync(zip)), 'run.zip'), 'run.zip');
    expect(Array.from(fromZip.weights.b_dec)).toEqual(Array.from(imp.weights.b_dec));
    expect(
      [...unzipFolder(new Uint8Array(readFileSync(zip)), 'z').keys()].some((k) => k.includes('checkpoints')),
    ).toBe(false);

    // export --checkpoint: a SAELens folder from a checkpoint.
    const fromCk = tempDir('fromck');
    dirs.push(fromCk);
    const y = await cli(['export', '--checkpoint', ck[0].file, '--out', fromCk]);
    expect(y.code, y.err).toBe(0);
    expect(importSaeFolder(readFolder(fromCk), fromCk).steps).toBe(ck[0].step);
  });

  it('input scaling is folded into the export: eval on raw data matches the run (mse × s²)', async () => {
    const out = tempDir('scaled');
    dirs.push(out);
    const r = await cli([
      'train',
      ...TINY,
      '--steps',
      '4',
      '--normalize-activations',
      'expected_average_only_in',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const imp = importSaeFolder(readFolder(out), out);
    const s = imp.scaling_factor;
    expect(s).not.toBe(1);
    const cfg = JSON.parse(new TextDecoder().decode(readFolder(out).get('cfg.json')!));
    expect(cfg.normalize_activations).toBe('none'); // folded: SAELens must not rescale again
    expect(cfg.metadata.normalize_activations).toBe('expected_average_only_in');
    const e = await cli(['eval', '--sae', out, '--dataset', 'builtin:tiny']);
    expect(e.code, e.err).toBe(0);
    for (const k of SCALE_FREE) expect(e.json[k] as number, k).toBeCloseTo(r.json[k] as number, 3);
    // The run's mse is in scaled units (s·x); the export's in raw units.
    expect((e.json.mse as number) * s * s).toBeCloseTo(r.json.mse as number, 3);
  });

  it('train --data FILE (a .npy) and eval it with --split all: no ground truth, same numbers through import', async () => {
    const dir = tempDir('npy');
    dirs.push(dir);
    const [S, T, d] = [24, 16, 8];
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${S}, ${T}, ${d}), }`;
    header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
    const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 255, header.length >> 8]);
    const data = new Float32Array(S * T * d).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const npy = path.join(dir, 'acts.npy');
    writeFileSync(npy, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
    const out = path.join(dir, 'run');
    const r = await cli([
      'train',
      '--data',
      npy,
      '--d-sae',
      '16',
      '--batch-seqs',
      '4',
      '--seq-len',
      '16',
      '--steps',
      '4',
      '--metrics-every',
      '2',
      '--eval-every',
      '0',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ status: 'done', step: 4 });
    expect(r.json).not.toHaveProperty('mmcs'); // no ground truth for the user's files
    expect(importSaeFolder(readFolder(out), out).config.d_in).toBe(d);
    const e = await cli(['eval', '--sae', out, '--data', npy, '--split', 'heldout']);
    expect(e.code, e.err).toBe(0);
    expect(e.json.explained_variance as number).toBeCloseTo(r.json.explained_variance as number, 5);
    const all = await cli(['eval', '--sae', out, '--data', npy, '--split', 'all']);
    expect(all.code, all.err).toBe(0);
    expect(all.json.tokens as number).toBe(S * T); // every sequence, not just the held-out tenth
  });

  it('usage errors exit 2 with the problem named; help lists every config flag', async () => {
    const a = await cli(['train', '--out', '/tmp/x']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/train needs --dataset builtin:PRESET or --data FILE/);
    const b = await cli(['train', ...TINY, '--steps', 'many', '--out', '/tmp/x']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--steps needs a number \(got 'many'\)/);
    const c = await cli(['train', '--dataset', 'builtin:nope', '--out', '/tmp/x']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/unknown built-in dataset 'nope'/);
    const d = await cli(['eval', '--sae', '/nonexistent', '--dataset', 'builtin:tiny']);
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/\/nonexistent is not a folder/);
    const h = await cli(['help']);
    expect(h.code).toBe(0);
    for (const f of [
      '--l1-coefficient',
      '--temporal-coefficient',
      '--alpha-beta',
      '--d-sae',
      '--context-size',
      '--seed',
      '--checkpoint-every',
    ])
      expect(h.out.join('\n')).toContain(f);
  });
});
