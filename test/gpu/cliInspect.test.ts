// `inspect` and `train --report` (issue 10) on Dawn: the report written next to a trained folder holds
// the same dashboards as `inspect` of that folder on the same held-out split (same pure functions,
// same data), contexts read as the data's vocabulary; on the user's own files the text comes from
// --tokenizer or a tokenizer inside the data folder, and without one the ids stay ids.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/npyWrite';
import { parseDashboardFile, type DashboardFile } from '../../src/io/dashboardJson';
import { dashboardsInReport } from '../../src/io/htmlReport';
import { cli, tempDir, TINY } from './cli-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const tokensOf = (f: DashboardFile) =>
  f.features
    .flatMap((x) => [...x.top_contexts, ...x.quantile_groups.flatMap((q) => q.contexts)])
    .flatMap((c) => c.tokens);

/** 40 sequences × 16 × d 16 whose activations follow their token ids (0–6, the tiny tokenizer's). */
function writeNpz(file: string) {
  const S = 40,
    T = 16,
    D = 16;
  let s = 7;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const E = Array.from({ length: 7 }, () => Array.from({ length: D }, () => r() * 2));
  const ids = new Int32Array(S * T),
    x = new Float32Array(S * T * D);
  for (let n = 0; n < S * T; n++) {
    ids[n] = n % T === 0 ? 6 : Math.floor(((r() + 1) / 2) * 6);
    for (let j = 0; j < D; j++) x[n * D + j] = E[ids[n]][j] + 0.1 * r();
  }
  writeFileSync(
    file,
    zipSync({
      'activations.npy': encodeNpy(x, [S, T, D], '<f4'),
      'token_ids.npy': encodeNpy(ids, [S, T], '<i4'),
    }),
  );
}

describe('npm run cli -- inspect / train --report', () => {
  it('train --report writes report.html whose dashboards match inspect of the folder', async () => {
    const out = tempDir('report');
    dirs.push(out);
    const r = await cli(['train', ...TINY, '--steps', '6', '--seed', '3', '--out', out, '--report', '3,5,7']);
    expect(r.code, r.err).toBe(0);
    const file = path.join(out, 'report.html');
    expect(existsSync(file)).toBe(true);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Training curves');
    expect(html).toMatch(/aria-label="Clustering/);
    const inReport = parseDashboardFile(JSON.stringify(dashboardsInReport(html)), 'report.html');
    expect(inReport.features.map((f) => f.index)).toEqual([3, 5, 7]);
    expect(inReport.token_text.name).toBe('synthetic vocabulary');

    const i = await cli(['inspect', '--sae', out, '--dataset', 'builtin:tiny', '--features', '3,5', '7']);
    expect(i.code, i.err).toBe(0);
    expect(i.json).toMatchObject({ command: 'inspect', sae: out, sae_format: 'temposae' });
    const ins = parseDashboardFile(JSON.stringify(i.json), 'stdout');
    expect(ins.data.split).toBe('heldout');
    expect(ins.run.step).toBe(6);
    // Same held-out sequences, same contexts, same values (the folder's weights, the same forward).
    for (const [k, f] of ins.features.entries()) {
      const g = inReport.features[k];
      expect(f.index).toBe(g.index);
      expect(f.tokens_seen).toBe(g.tokens_seen);
      expect(f.frac_nonzero).toBeCloseTo(g.frac_nonzero, 6);
      expect(f.top_contexts.map((c) => [c.sequence, c.position, c.tokens.join('|')])).toEqual(
        g.top_contexts.map((c) => [c.sequence, c.position, c.tokens.join('|')]),
      );
      f.top_contexts.forEach((c, n) => expect(c.max_value).toBeCloseTo(g.top_contexts[n].max_value, 4));
    }
    // The built-in vocabulary: <bos>, · (no feature), f0, f1, … — never a bracketed id.
    const tokens = tokensOf(ins);
    expect(tokens.length).toBeGreaterThan(20);
    expect(
      tokens.every((t) => t === '<bos>' || t === '·' || /^f\d+$/.test(t)),
      tokens.join(' '),
    ).toBe(true);
    // --out writes the same document, indented.
    const saved = path.join(out, 'dash.json');
    const j = await cli([
      'inspect',
      '--sae',
      out,
      '--dataset',
      'builtin:tiny',
      '--features',
      '3',
      '--out',
      saved,
    ]);
    expect(j.code, j.err).toBe(0);
    expect(parseDashboardFile(readFileSync(saved, 'utf8'), 'dash.json').features[0].top_contexts).toEqual(
      ins.features[0].top_contexts,
    );
    // --top / --before / --after as in the inspector.
    const k = await cli([
      'inspect',
      '--sae',
      out,
      '--dataset',
      'builtin:tiny',
      '--features',
      '3',
      '--top',
      '3',
      '--before',
      '2',
      '--after',
      '0',
    ]);
    expect(k.code, k.err).toBe(0);
    const kf = parseDashboardFile(JSON.stringify(k.json), 'stdout');
    expect(kf.context).toEqual({ before: 2, after: 0 });
    expect(kf.features[0].top_contexts.length).toBe(3);
    for (const c of kf.features[0].top_contexts) {
      expect(c.tokens.length).toBeLessThanOrEqual(3);
      expect(c.max_value_token_index).toBe(c.tokens.length - 1);
    }
    // The strongest activation is the same whatever the window.
    expect(kf.features[0].top_contexts[0].max_value).toBe(ins.features[0].top_contexts[0].max_value);
  });

  it('on the user’s files: --tokenizer or a tokenizer in the data folder gives text; none leaves ids', async () => {
    const root = tempDir('inspect-files');
    dirs.push(root);
    const data = path.join(root, 'data');
    mkdirSync(data);
    writeNpz(path.join(data, 'acts.npz'));
    const out = path.join(root, 'run');
    const common = ['--d-sae', '32', '--batch-seqs', '4', '--seq-len', '16', '--eval-every', '0'];
    const t = await cli([
      'train',
      '--data',
      path.join(data, 'acts.npz'),
      ...common,
      '--steps',
      '4',
      '--out',
      out,
    ]);
    expect(t.code, t.err).toBe(0);
    const tok = path.resolve('test/fixtures/data/tiny-tokenizer.json');
    const words = ['h', 'i', ' ', 'hi', ' hi', ' there', '<|endoftext|>'];

    const ids = await cli([
      'inspect',
      '--sae',
      out,
      '--data',
      path.join(data, 'acts.npz'),
      '--features',
      '0,1',
    ]);
    expect(ids.code, ids.err).toBe(0);
    const idTokens = tokensOf(parseDashboardFile(JSON.stringify(ids.json), 'stdout'));
    expect(idTokens.length).toBeGreaterThan(0);
    expect(
      idTokens.every((x) => /^\[\d\]$/.test(x)),
      idTokens.join(' '),
    ).toBe(true);

    const named = await cli([
      'inspect',
      '--sae',
      out,
      '--data',
      path.join(data, 'acts.npz'),
      '--features',
      '0,1',
      '--tokenizer',
      tok,
    ]);
    expect(named.code, named.err).toBe(0);
    const nf = parseDashboardFile(JSON.stringify(named.json), 'stdout');
    expect(nf.token_text).toEqual({ name: 'tiny-tokenizer.json', kind: 'tokenizer' });
    const nt = tokensOf(nf);
    expect(
      nt.every((x) => words.includes(x)),
      nt.join('|'),
    ).toBe(true);
    // The special token (id 6 starts every sequence) is marked.
    expect(nf.features.some((f) => f.top_contexts.some((c) => c.special_token_indices.length > 0))).toBe(
      true,
    );

    // A tokenizer.json inside the --data folder is found on its own.
    copyFileSync(tok, path.join(data, 'tokenizer.json'));
    const folder = await cli(['inspect', '--sae', out, '--data', data, '--features', '1']);
    expect(folder.code, folder.err).toBe(0);
    expect((folder.json.token_text as { name: string }).name).toBe('tokenizer.json');
  });

  it('bad requests are usage errors naming the problem', async () => {
    const out = tempDir('inspect-bad');
    dirs.push(out);
    expect((await cli(['train', ...TINY, '--steps', '2', '--out', out])).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['--features', '32'], /--features: '32' is not a feature of this SAE \(0–31\)/],
      [['--features', 'x'], /--features: 'x' is not a feature/],
      [[], /inspect needs --features/],
      [
        ['--features', '1', '--tokenizer', path.join(out, 'nope.json')],
        /--tokenizer: .*nope\.json is not a file/,
      ],
      [['--features', '1', '--top', '0'], /--top must be an integer from 1 to 1000 \(got 0\)/],
    ];
    for (const [extra, msg] of cases) {
      const r = await cli(['inspect', '--sae', out, '--dataset', 'builtin:tiny', ...extra]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});
