// `experiment --config FILE.json --out DIR` on the built-in data: 3 methods × 2 seeds of tiny runs (one
// a T-SAE, whose per-prefix explained variance comes from each run's eval.json).
// The table's numbers are the runs' own final metrics (result.json = train's final JSON), the
// sentences quote them, a second run of the experiment reads the finished runs back (resumable) and a
// run trained again from nothing with the same seed reproduces table.json bit for bit; bad files are refused with
// the file and field named.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDirName } from '../../src/cli/experimentCommand';
import { cli, tempDir, TINY } from './cli-helpers';

const dataset = TINY.slice(0, 2); // --dataset builtin:tiny
const shape = TINY.slice(2); // the small shapes and readback flags

function writeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'experiment.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'tiny λ2 check',
      dataset: dataset[1],
      seeds: [1, 2],
      methods: [
        { name: 'plain', config: { temporal_coefficient: 0 } },
        { name: 'ours λ2=0.5', config: { temporal_coefficient: 0.5 } },
        { name: 'T-SAE', config: { architecture: 'tsae', temporal_coefficient: 0 } },
      ],
      train_flags: [...shape, '--steps', '6'],
      ...extra,
    }),
  );
  return file;
}

describe('cli experiment', () => {
  it('trains methods × seeds, writes the table, resumes, and reproduces bit for bit', async () => {
    const dir = tempDir('exp');
    const cfg = writeConfig(dir);
    const out = path.join(dir, 'out');
    const r = await cli(['experiment', '--config', cfg, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.json.status).toBe('done');
    expect(r.json.runs).toBe(6);
    const t = JSON.parse(readFileSync(path.join(out, 'table.json'), 'utf8'));
    // Every cell value is a run's own final metric.
    for (const run of t.runs) {
      const folder = path.join(out, 'runs', runDirName(run.method, run.seed));
      const ev = JSON.parse(readFileSync(path.join(folder, 'eval.json'), 'utf8'));
      expect(run.metrics.tv_ratio).toBe(ev.metrics.tv_ratio);
      expect(run.metrics.explained_variance).toBe(ev.metrics.explained_variance);
      expect(run.metrics.act_smoothness).toBe(ev.metrics.act_smoothness);
      const cell = t.table.cells[run.method].tv_ratio;
      expect(cell.values[cell.seeds.indexOf(run.seed)]).toBe(run.metrics.tv_ratio);
      // Per Matryoshka prefix: T-SAE's columns are its eval.json's literature groups; ReLU has none.
      const groups: { explained_variance: number }[] = ev.literature?.groups ?? [];
      expect(groups.length).toBe(run.method === 'T-SAE' ? 2 : 0);
      groups.forEach((g, i) => {
        const pc = t.table.cells[run.method][`explained_variance_prefix_${i + 1}`];
        expect(pc.values[pc.seeds.indexOf(run.seed)]).toBe(g.explained_variance);
      });
    }
    expect(t.table.cells.plain.explained_variance_prefix_1).toMatchObject({ n: 0, mean: null });
    expect(t.table.cells['T-SAE'].explained_variance_prefix_2.n).toBe(2);
    // Same seed, different λ2: different runs; the sentences quote the table's means.
    const tv = t.table.cells['ours λ2=0.5'].tv_ratio;
    expect(t.table.cells.plain.tv_ratio.values).not.toEqual(tv.values);
    const sentence = t.table.sentences.find((s: { metric: string }) => s.metric === 'tv_ratio').text;
    expect(sentence).toContain(tv.mean.toPrecision(4));
    expect(readFileSync(path.join(out, 'table.csv'), 'utf8').split('\n')[0]).toContain('tv_ratio_mean');
    // By position over seeds: position t's mean is the mean of the runs' own eval.json values at t.
    const bp = t.by_position.cells.plain.tv_ratio;
    const evs = [1, 2].map(
      (seed) =>
        JSON.parse(readFileSync(path.join(out, 'runs', runDirName('plain', seed), 'eval.json'), 'utf8'))
          .byPosition,
    );
    expect(bp.mean[5]).toBeCloseTo((evs[0].tv_ratio[5] + evs[1].tv_ratio[5]) / 2, 12);
    expect(t.by_position.metrics).toContain('act_smoothness');
    // T-SAE's prefix explained variance by position: the mean of its runs' eval.json lines.
    const tp = [1, 2].map(
      (seed) =>
        JSON.parse(readFileSync(path.join(out, 'runs', runDirName('T-SAE', seed), 'eval.json'), 'utf8'))
          .byPosition.explained_variance_prefix_1,
    );
    expect(t.by_position.cells['T-SAE'].explained_variance_prefix_1.mean[3]).toBeCloseTo(
      (tp[0][3] + tp[1][3]) / 2,
      12,
    );
    expect(t.by_position.cells.plain.explained_variance_prefix_1.mean).toEqual([]);
    expect(readFileSync(path.join(out, 'by_position.csv'), 'utf8').split('\n')[0]).toBe(
      'method,metric,position,mean,ci_half,n',
    );
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain(
      sentence.replace(/&/g, '&amp;').slice(0, 40),
    );
    // Run again: nothing is trained, the same table comes out.
    const again = await cli(['experiment', '--config', cfg, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.err.match(/read back/g)?.length).toBe(6);
    expect(JSON.parse(readFileSync(path.join(out, 'table.json'), 'utf8'))).toEqual(t);
    // Train one run again from nothing (its folder removed): with the same seed the table is bit for
    // bit the same file.
    const before = readFileSync(path.join(out, 'table.json'), 'utf8');
    rmSync(path.join(out, 'runs', runDirName('ours λ2=0.5', 2)), { recursive: true });
    rmSync(path.join(out, 'runs', runDirName('T-SAE', 1)), { recursive: true });
    const redo = await cli(['experiment', '--config', cfg, '--out', out]);
    expect(redo.code).toBe(0);
    expect(redo.err.match(/read back/g)?.length).toBe(4);
    expect(readFileSync(path.join(out, 'table.json'), 'utf8')).toBe(before);
  });

  it('refuses a bad experiment file, naming the file and the field', async () => {
    const dir = tempDir('exp-bad');
    for (const [extra, msg] of [
      [{ seeds: [1, 1] }, "'seeds' has a repeat"],
      [{ methods: [{ name: 'a', config: { lambda: 1 } }] }, "unknown TrainConfig field 'lambda'"],
      [{ colour: 'red' }, "unknown field 'colour'"],
      [{ train_flags: ['--out', 'x'] }, 'may not contain --out'],
      [{ methods: [{ name: 't', target_l0: 5, config: { architecture: 'topk' } }] }, 'TopK fixes L0 by k'],
      [{ l0_search: { steps: 0 } }, "'l0_search.steps' must be a positive integer"],
    ] as const) {
      const cfg = writeConfig(dir, extra);
      const r = await cli(['experiment', '--config', cfg, '--out', path.join(dir, 'o')]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(cfg);
      expect(r.err).toContain(msg);
    }
    expect(existsSync(path.join(dir, 'o', 'table.json'))).toBe(false);
  });
});
