// The CLI when a run fails part-way (issue 7, "a lost GPU device … gets a clear message"): the
// device is destroyed in the middle of `train` (as a driver reset would), or the loss diverges; the
// command exits 1 with a message naming the problem and the step, the last JSON line says so, and the
// checkpoint written before the fault is intact and resumable.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { listCheckpoints } from '../../src/cli/runFolder';
import { parseCheckpoint } from '../../src/io/checkpoint';
import { newTestGpu } from '../helpers/dawn';
import { cli, tempDir, TINY } from './cli-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('CLI train faults', () => {
  it('a device lost mid-run: exit 1, names the loss and the step; the last checkpoint resumes', async () => {
    const dir = tempDir('lost');
    dirs.push(dir);
    const gpu = await newTestGpu();
    const out: string[] = [];
    let err = '';
    let progressLines = 0;
    const args = [...TINY, '--steps', '20', '--checkpoint-every', '5'];
    const code = await main(['train', ...args, '--out', dir], {
      gpu,
      out: (l) => out.push(l),
      err: {
        isTTY: false,
        write: (t) => {
          err += t;
          // A progress line comes at each metrics readback (TINY: every 5 steps): destroy the device at
          // the one of step 10, after the checkpoint of step 5 was written and before that of step 10.
          if (t.startsWith('[') && ++progressLines === 2) gpu.device.destroy();
        },
      },
    });
    expect(code, err).toBe(1);
    expect(err).toMatch(/the GPU device was lost during step \d+/);
    expect(err).toMatch(new RegExp(`checkpoint of step 5 in ${dir} is intact: continue with .*--resume`));
    const json = JSON.parse(out[out.length - 1]);
    expect(json).toMatchObject({
      command: 'train',
      status: 'failed',
      error: 'device-lost',
      last_checkpoint: 5,
    });
    expect(json.step).toBe(10);
    // The checkpoint on disk is whole, and a resume on a working device finishes the run.
    const files = listCheckpoints(dir);
    expect(files.map((f) => f.step)).toEqual([5]);
    expect(parseCheckpoint(new Uint8Array(readFileSync(files[0].file)), files[0].file).trainer.step).toBe(5);
    const r = await cli(['train', '--resume', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ status: 'done', step: 20 });
  });

  it('a diverging run: exit 1, names the step and the term, says to lower the learning rate', async () => {
    const dir = tempDir('diverge');
    dirs.push(dir);
    const r = await cli(['train', ...TINY, '--steps', '20', '--lr', '1e30', '--out', dir]);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/step \d+/);
    expect(r.err).toMatch(/lower --lr|no checkpoint was written yet/);
    expect(r.json).toMatchObject({ command: 'train', status: 'failed', error: 'diverged' });
  });
});
