// `experiment` with matched L0 (issue 14): a ReLU method with target_l0 gets its λ1 from a search of
// short runs on the first seed (×4 until bracketed, then geometric bisection), picks the probe closest
// to the target, trains every seed with it, and a rerun reads the search back.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDirName } from '../../src/cli/experimentCommand';
import { cli, tempDir, TINY } from './cli-helpers';

describe('cli experiment, matched L0', () => {
  it('matched L0: a λ1 search of short runs picks the probe closest to the target for every seed', async () => {
    const dir = tempDir('exp-l0');
    const cfg = path.join(dir, 'experiment.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        dataset: TINY[1],
        seeds: [3],
        methods: [{ name: 'relu L0 6', target_l0: 6, config: { temporal_coefficient: 0.02 } }],
        l0_search: { steps: 10, probes: 3 },
        train_flags: [...TINY.slice(2), '--steps', '12'],
      }),
    );
    const out = path.join(dir, 'out');
    const r = await cli(['experiment', '--config', cfg, '--out', out]);
    expect(r.code, r.err).toBe(0);
    const t = JSON.parse(readFileSync(path.join(out, 'table.json'), 'utf8'));
    const s = t.l0_search['relu L0 6'];
    expect(s.probes.length).toBe(3);
    // ×4 until bracketed, then geometric bisection: each λ1 follows from the L0s before it.
    let lo: number | null = null,
      hi: number | null = null;
    expect(s.probes[0].l1_coefficient).toBe(1);
    for (let i = 1; i < 3; i++) {
      const p = s.probes[i - 1];
      if (p.l0 > 6) lo = p.l1_coefficient;
      else hi = p.l1_coefficient;
      expect(s.probes[i].l1_coefficient).toBe(
        hi === null ? p.l1_coefficient * 4 : lo === null ? p.l1_coefficient / 4 : Math.sqrt(lo * hi),
      );
    }
    const err = (p: { l0: number }) => Math.abs(Math.log(p.l0 / 6));
    const best = [...s.probes].sort((a, b) => err(a) - err(b))[0];
    expect(s.chosen).toBe(best.l1_coefficient);
    // The full run trained with the chosen λ1, and each probe's L0 is its own run's held-out l0.
    const runCfg = JSON.parse(
      readFileSync(path.join(out, 'runs', runDirName('relu L0 6', 3), 'experiment-run.json'), 'utf8'),
    );
    expect(runCfg.l1_coefficient).toBe(s.chosen);
    const ev0 = JSON.parse(
      readFileSync(path.join(out, 'runs', 'relu_L0_6-l0search', 'probe-0', 'eval.json'), 'utf8'),
    );
    expect(s.probes[0].l0).toBe(ev0.metrics.l0);
    // A rerun reads the search back.
    const again = await cli(['experiment', '--config', cfg, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.err).not.toContain('[L0 search]');
    expect(again.err).toContain('in the search');
  });
});
