// Deterministic resume (issue 7): N steps, checkpoint, a fresh process state (new trainer, new batcher
// from the checkpoint), N more steps == 2N steps straight. The same kernels on the same device run the
// same float operations in the same order, so we expect bit-identical results; the assertion allows
// 1e-6 absolute so that a harmless reordering on another driver would not fail the test, and reports
// the largest difference seen.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { listCheckpoints } from '../../src/cli/runFolder';
import { parseCheckpoint, type Checkpoint } from '../../src/io/checkpoint';
import { historyFromJson } from '../../src/io/history';
import { cli, tempDir, TINY } from './cli-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function lastCheckpoint(dir: string): Checkpoint {
  const all = listCheckpoints(dir);
  const f = all[all.length - 1].file;
  return parseCheckpoint(new Uint8Array(readFileSync(f)), f);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function compareStates(a: Checkpoint, b: Checkpoint): number {
  const pa = a.trainer;
  const pb = b.trainer;
  expect(pb.step).toBe(pa.step);
  expect(pb.tokens_seen).toBe(pa.tokens_seen);
  expect(pb.adam.step).toBe(pa.adam.step);
  expect(pb.alpha.l_max).toBeCloseTo(pa.alpha.l_max!, 6);
  expect(b.data_state).toEqual(a.data_state);
  let worst = maxDiff(pa.tokens_since_fired, pb.tokens_since_fired);
  for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const) {
    if (!pa.weights[k]) continue;
    worst = Math.max(worst, maxDiff(pa.weights[k]!, pb.weights[k]!));
    worst = Math.max(worst, maxDiff(pa.adam.m[k]!, pb.adam.m[k]!));
    worst = Math.max(worst, maxDiff(pa.adam.v[k]!, pb.adam.v[k]!));
  }
  return worst;
}

describe('CLI resume is deterministic', () => {
  for (const arch of ['relu', 'topk', 'jumprelu'])
    it(`${arch}: 5 steps + resume + 5 steps == 10 steps straight`, async () => {
      const straight = tempDir('straight');
      const split = tempDir('split');
      dirs.push(straight, split);
      const args = [...TINY, '--arch', arch, '--k', '8', '--steps', '10', '--checkpoint-every', '5'];
      const a = await cli(['train', ...args, '--out', straight]);
      expect(a.code, a.err).toBe(0);
      const b1 = await cli(['train', ...args, '--out', split, '--stop-at', '5']);
      expect(b1.code, b1.err).toBe(0);
      expect(b1.json).toMatchObject({ status: 'paused', step: 5 });
      const b2 = await cli(['train', '--resume', split]);
      expect(b2.code, b2.err).toBe(0);
      expect(b2.err).toMatch(/resuming from .*step-000000005/);
      const worst = compareStates(lastCheckpoint(straight), lastCheckpoint(split));
      expect(worst).toBeLessThanOrEqual(1e-6);
      // The metric history after the resume point is the same too, and the final metrics agree.
      const ha = historyFromJson(readFileSync(`${straight}/history.json`, 'utf8'), 'a');
      const hb = historyFromJson(readFileSync(`${split}/history.json`, 'utf8'), 'b');
      expect(hb.train.map((r) => r.step)).toEqual(ha.train.map((r) => r.step));
      hb.train.forEach((r, i) => expect(r.l_recon).toBeCloseTo(ha.train[i].l_recon, 5));
      expect(b2.json.explained_variance).toBeCloseTo(a.json.explained_variance as number, 6);
      expect(b2.json.tv_ratio).toBeCloseTo(a.json.tv_ratio as number, 6);
    });

  it('a damaged newest checkpoint falls back to the one before it', async () => {
    const dir = tempDir('damaged');
    dirs.push(dir);
    const args = [...TINY, '--steps', '8', '--checkpoint-every', '3'];
    expect((await cli(['train', ...args, '--out', dir, '--stop-at', '6'])).code).toBe(0);
    const files = listCheckpoints(dir);
    expect(files.map((f) => f.step)).toEqual([3, 6]);
    // Cut the newest checkpoint short, as a crash in the middle of a write would.
    writeFileSync(files[1].file, readFileSync(files[1].file).subarray(0, 1000));
    const r = await cli(['train', '--resume', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/skipped a damaged checkpoint: .*step-000000006.safetensors/);
    expect(r.err).toMatch(/resuming from .*step-000000003/);
    expect(r.json).toMatchObject({ status: 'done', step: 8 });
  });
});
