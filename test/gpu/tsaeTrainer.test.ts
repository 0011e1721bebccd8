// The T-SAE trainer (src/sae/architectures/tsae.ts: Matryoshka BatchTopK + InfoNCE on adjacent tokens'
// high-level codes) against the float64 reference (src/sae/reference/methods.ts via referenceStep), with
// the helpers and tolerances of matryoshkaTrainer.test.ts. The fixture batch has a document start
// mid-sequence and padding (one token inside a sequence, two at the end), so pairs across a start or
// next to padding would change L_nce and fail the comparison.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readFolder } from '../../src/cli/runFolder';
import { importSaeFolder } from '../../src/io/importSae';
import type { TrainConfig } from '../../src/sae/config';
import { cli, tempDir, TINY } from './cli-helpers';
import { gpuCfg } from './fixtures';
import { oneStepMatchesReference, RUN_SETTINGS, stepsMatchReference } from './methodTrainerSteps';

const base = (o: Partial<TrainConfig>): TrainConfig =>
  gpuCfg({ architecture: 'tsae', temporal_coefficient: 0.5, contrastive_coefficient: 0.5, ...o });

describe('T-SAE: one GPU step vs the float64 reference', () => {
  it('defaults: high-level prefix 0.2·d_sae, cosine, τ 1, weights 0.1/0.4', () =>
    oneStepMatchesReference(base({})));
  it('dot similarity (the code), τ 0.5, skip start', () =>
    oneStepMatchesReference(
      base({ contrastive_similarity: 'dot', contrastive_temperature: 0.5, seq_start_mode: 'skip' }),
    ));
  it('three prefixes with their own weights, no temporal penalty', () =>
    oneStepMatchesReference(
      base({ matryoshka_widths: [6, 20], matryoshka_weights: [0.5, 0.3, 0.2], temporal_coefficient: 0 }),
    ));
});

describe('T-SAE: 20 GPU steps vs 20 reference steps', () => {
  it('warm-up, cosine schedule, dead features', () => stepsMatchReference(base({ ...RUN_SETTINGS }), 20));
});

describe('CLI: train --architecture tsae, its folder and evaluation', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  it('flags set the method, the history logs L_mat and L_nce, the evaluation has EV per prefix, the export imports back', async () => {
    const out = tempDir('tsae');
    dirs.push(out);
    const r = await cli([
      'train',
      ...TINY,
      '--architecture',
      'tsae',
      '--k',
      '2',
      '--matryoshka-weights',
      '0.2,0.8',
      '--contrastive-coefficient',
      '0.3',
      '--contrastive-similarity',
      'dot',
      '--steps',
      '6',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const files = readFolder(out);
    const history = JSON.parse(new TextDecoder().decode(files.get('history.json')!)) as {
      train: Record<string, number>[];
    };
    const last = history.train.at(-1)!;
    expect(last.l_nce).toBeGreaterThan(0);
    expect(last.l_mat).toBeGreaterThan(0);
    // loss = L_mat + λ2·α·L_temp + c·L_nce (the CLI's defaults: λ2 0.02).
    expect(last.loss).toBeCloseTo(last.l_mat + 0.02 * last.alpha * last.l_temp + 0.3 * last.l_nce, 4);
    // Evaluation: per Matryoshka prefix [0, 6) and [0, 32) (TINY's d_sae 32, 20 %); the whole
    // dictionary's prefix is the run's reconstruction, so its EV is the run's explained_variance.
    const ev = JSON.parse(new TextDecoder().decode(files.get('eval.json')!)) as {
      metrics: { explained_variance: number };
      literature: { groups: { start: number; end: number; explained_variance: number }[] };
    };
    const groups = ev.literature.groups;
    expect(groups.map((g) => [g.start, g.end])).toEqual([
      [0, 6],
      [6, 32],
    ]);
    expect(groups[1].explained_variance).toBeCloseTo(ev.metrics.explained_variance, 4);
    expect(groups[0].explained_variance).toBeLessThan(groups[1].explained_variance);
    // Saved as SAELens saves it (a JumpReLU with θ for every feature); TempoSAE's metadata brings T-SAE back.
    const cfg = JSON.parse(new TextDecoder().decode(files.get('cfg.json')!)) as { architecture: string };
    expect(cfg.architecture).toBe('jumprelu');
    const imp = importSaeFolder(files, out);
    expect(imp.config).toMatchObject({
      architecture: 'tsae',
      matryoshka_weights: [0.2, 0.8],
      contrastive_coefficient: 0.3,
      contrastive_similarity: 'dot',
      k: 2,
    });
    expect(imp.weights.topk_threshold).toBeGreaterThan(0);
  });
});
