// The experiment planner shared by the CLI and the app (src/analysis/experimentPlan.ts): the file's
// checks, matched L0 asked of the architecture registry, the λ1 search's bracketing and bisection as
// a replay of its probes, the plan of runs, and the run → ExperimentRun mapping.
import { describe, expect, it } from 'vitest';
import {
  experimentConfigJson,
  experimentRunOf,
  finishL0Search,
  l0Control,
  methodOf,
  nextProbeL1,
  parseExperimentConfig,
  plannedRuns,
  probeRequest,
  runExperiment,
  type RunRequest,
} from '../../../src/analysis/experimentPlan';
import { ARCHITECTURE_IDS, architectureOf } from '../../../src/sae/architectures';
import { DEFAULT_CONFIG } from '../../../src/sae/config';

const ok = { dataset: 'builtin:tiny', seeds: [1, 2], methods: [{ name: 'a' }] };

describe('experiment file checks', () => {
  it('names the file and the field', () => {
    for (const [extra, msg] of [
      [{ seeds: [1, 1] }, "'seeds' has a repeat"],
      [{ seeds: [] }, "'seeds' must be a non-empty list"],
      [{ methods: [{ name: 'a', config: { lambda: 1 } }] }, "unknown TrainConfig field 'lambda'"],
      [{ methods: [{ name: 'a', config: { architecture: 'gated' } }] }, "unknown architecture 'gated'"],
      [{ methods: [{ name: 'a b' }, { name: 'a_b' }] }, "same folder 'a_b'"],
      [{ methods: [{ name: 'a', config: { seed: 3 } }] }, "not 'seed'"],
      [{ colour: 'red' }, "unknown field 'colour'"],
      [{ data: ['x.npy'] }, "exactly one of 'dataset' and 'data'"],
      [{ train_flags: ['--seed', '1'] }, 'may not contain --seed'],
      [{ l0_search: { probes: 1 } }, "'l0_search.probes' must be an integer in 2..20"],
      [{ level: 1 }, "'level' must be a number in (0, 1)"],
      [{ methods: [{ name: 't', target_l0: 5, config: { architecture: 'topk' } }] }, 'TopK fixes L0 by k'],
      [{ methods: [{ name: 't', target_l0: 5, config: { l1_coefficient: 2 } }] }, 'do not set it too'],
      [{ methods: [{ name: 't', target_l0: -1 }] }, 'target_l0 must be a number > 0'],
    ] as const) {
      let message = '';
      try {
        parseExperimentConfig({ ...ok, ...extra }, 'x.json');
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message.startsWith('x.json: '), message).toBe(true);
      expect(message).toContain(msg);
    }
    const x = parseExperimentConfig(ok, 'x.json');
    expect(x.l0_search).toEqual({ steps: 200, probes: 6 });
    expect(x.level).toBe(0.95);
    // The app's download parses back to the same config.
    expect(parseExperimentConfig(JSON.parse(experimentConfigJson(x)), 'again.json')).toEqual(x);
  });
});

describe('matched L0 from the registry', () => {
  it('every registered architecture says how it reaches an L0', () => {
    for (const id of ARCHITECTURE_IDS) {
      const c = l0Control(id);
      const spec = architectureOf(id);
      // A sparsity term → its coefficient is searched; none but a k → k is set; the registry decides.
      const hasSparse = spec
        .lossTerms({ ...DEFAULT_CONFIG, architecture: id })
        .some((t) => t.id === 'sparse');
      expect(c.kind, id).toBe(hasSparse ? 'search' : spec.configKeys.includes('k') ? 'fixed' : 'none');
    }
    expect(l0Control('relu')).toEqual({ kind: 'search', coefficient: 'l1_coefficient' });
    expect(l0Control('jumprelu').kind).toBe('search');
    expect(l0Control('topk')).toEqual({ kind: 'fixed', key: 'k' });
  });

  it('methodOf: plain and ours names; a target goes to λ1 search or to k', () => {
    expect(methodOf({ architecture: 'relu', temporal_coefficient: 0 })).toEqual({
      name: 'ReLU',
      config: { architecture: 'relu', temporal_coefficient: 0 },
    });
    expect(methodOf({ architecture: 'relu', temporal_coefficient: 0.02 }, 12)).toEqual({
      name: 'ReLU + ours λ2=0.02',
      config: { architecture: 'relu', temporal_coefficient: 0.02 },
      target_l0: 12,
    });
    expect(methodOf({ architecture: 'topk', temporal_coefficient: 0 }, 12.4).config.k).toBe(12);
  });
});

describe('the λ1 search', () => {
  it('×4 until bracketed, then geometric bisection (hand-worked), closest in log terms wins', () => {
    const target = 10;
    expect(nextProbeL1(target, 1, [])).toBe(1);
    // L0 30 > 10: λ1 too small → ×4.
    expect(nextProbeL1(target, 1, [{ l1_coefficient: 1, l0: 30 }])).toBe(4);
    // Then L0 5 < 10: bracketed [1, 4] → √4 = 2.
    const p2 = [
      { l1_coefficient: 1, l0: 30 },
      { l1_coefficient: 4, l0: 5 },
    ];
    expect(nextProbeL1(target, 1, p2)).toBe(2);
    // L0 12 > 10 at 2: [2, 4] → √8.
    const p3 = [...p2, { l1_coefficient: 2, l0: 12 }];
    expect(nextProbeL1(target, 1, p3)).toBe(Math.sqrt(8));
    // Below the target from the start → ÷4.
    expect(nextProbeL1(target, 1, [{ l1_coefficient: 1, l0: 3 }])).toBe(0.25);
    // |log(12/10)| = 0.182 < |log(5/10)| = 0.693 < |log(30/10)| = 1.099.
    const s = finishL0Search(target, 7, p3);
    expect(s).toEqual({ target_l0: 10, steps: 7, probes: p3, chosen: 2, chosen_l0: 12 });
  });

  it('runExperiment: probes from the replay, then every method × seed with the chosen λ1', async () => {
    const x = parseExperimentConfig(
      {
        dataset: 'builtin:tiny',
        seeds: [5, 6],
        training_tokens: 999,
        base: { d_sae: 8 },
        methods: [
          { name: 'plain', config: { temporal_coefficient: 0 }, target_l0: 10 },
          { name: 'k', config: { architecture: 'topk', k: 3 } },
        ],
        l0_search: { steps: 3, probes: 3 },
      },
      'x.json',
    );
    const asked: RunRequest[] = [];
    // A made-up L0 curve: L0 = 20 / λ1.
    const report = await runExperiment(x, {
      train: async (req) => {
        asked.push(req);
        const l1 = Number(req.config.l1_coefficient ?? 1);
        return {
          run: experimentRunOf(req.method, req.seed, 1, { l0: 20 / l1, explained_variance: req.seed / 10 }),
          byPosition: { l0: [1, 2] },
        };
      },
      loadSearch: () => null,
      saveSearch: () => {},
      dataDefaultL1: 1,
      log: () => {},
    });
    expect(asked.map((r) => r.kind)).toEqual(['probe', 'probe', 'probe', 'run', 'run', 'run', 'run']);
    // λ1 1 → L0 20 (> 10: ×4); 4 → 5 (< 10: bisect); 2 → 10.
    expect(asked.slice(0, 3).map((r) => r.config.l1_coefficient)).toEqual([1, 4, 2]);
    expect(asked[0]).toMatchObject({ seed: 5, steps: 3, config: { d_sae: 8, seed: 5 } });
    expect(asked[0].config.training_tokens).toBeUndefined();
    expect(report!.l0_search.plain.chosen).toBe(2);
    expect(asked[3].config).toMatchObject({ l1_coefficient: 2, seed: 5, training_tokens: 999, d_sae: 8 });
    expect(asked[5].config).toMatchObject({ architecture: 'topk', k: 3, seed: 5 });
    expect(asked[5].config.l1_coefficient).toBeUndefined();
    expect(asked.slice(3).map((r) => r.tag)).toEqual(['[1/4]', '[2/4]', '[3/4]', '[4/4]']);
    expect(report!.table.cells.k.explained_variance.values).toEqual([0.5, 0.6]);
    expect(report!.by_position.cells.plain.l0.mean).toEqual([1, 2]);
  });

  it('a run that does not finish stops the experiment (resumable, no report)', async () => {
    const x = parseExperimentConfig(ok, 'x.json');
    let n = 0;
    const r = await runExperiment(x, {
      train: async (req) =>
        n++ === 0 ? { run: experimentRunOf(req.method, req.seed, 1, {}), byPosition: {} } : null,
      loadSearch: () => null,
      saveSearch: () => {},
      dataDefaultL1: 1,
      log: () => {},
    });
    expect(r).toBeNull();
    expect(n).toBe(2);
  });
});

describe('run → ExperimentRun', () => {
  it('tokens seen first, then the finite numbers of the evaluation (what a JSON file keeps)', () => {
    const r = experimentRunOf('m', 3, 640, { step: 5, l0: 4, mmcs: NaN, x: Infinity, name: 'no', ev: 0.5 });
    expect(r).toEqual({ method: 'm', seed: 3, metrics: { tokens_seen: 640, l0: 4, ev: 0.5 } });
    expect(Object.keys(r.metrics)).toEqual(['tokens_seen', 'l0', 'ev']);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('plannedRuns: methods × seeds in order; probes use the first seed and their own steps', () => {
    const x = parseExperimentConfig({ ...ok, base: { lr: 0.1 }, training_tokens: 64 }, 'x.json');
    expect(plannedRuns(x, new Map()).map((r) => [r.method, r.seed, r.config])).toEqual([
      ['a', 1, { lr: 0.1, seed: 1, training_tokens: 64 }],
      ['a', 2, { lr: 0.1, seed: 2, training_tokens: 64 }],
    ]);
    const p = probeRequest(x, x.methods[0], 0.5, 1);
    expect(p).toMatchObject({
      kind: 'probe',
      seed: 1,
      probe: 1,
      steps: 200,
      config: { l1_coefficient: 0.5 },
    });
  });
});
