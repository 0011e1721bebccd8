// `npm run bench:bundle` writes a folder that runs the benchmark with plain `node` away from the
// checkout: built here, copied to a fresh temp dir (no node_modules above it but the folder's own), run
// there on SwiftShader on a tiny case, our trainer and the bundled tf.js peer both.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const temps: string[] = [];
const temp = () => {
  const t = mkdtempSync(join(tmpdir(), 'temposae-bench-'));
  temps.push(t);
  return t;
};
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

const size = (p: string): number =>
  statSync(p).isDirectory() ? readdirSync(p).reduce((a, f) => a + size(join(p, f)), 0) : statSync(p).size;

describe('bench:bundle', () => {
  it('runs from a copy outside the checkout with plain node', { timeout: 120_000 }, () => {
    const built = join(temp(), 'dist-bench');
    const b = spawnSync(process.execPath, ['scripts/bundle-bench.mjs', '--out', built], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(b.status, b.stderr).toBe(0);
    expect(size(built)).toBeLessThan(60 * 1024 * 1024);
    // Nothing but Dawn's package beside the bundle, and no path into this checkout inside it.
    expect(readdirSync(join(built, 'node_modules'))).toEqual(['webgpu']);
    expect(readFileSync(join(built, 'bench.mjs'), 'utf8')).not.toContain(root);

    const away = join(temp(), 'copy');
    cpSync(built, away, { recursive: true });
    // Module resolution from the copy walks up to the file system root: no node_modules on the way.
    for (let d = dirname(away); d !== dirname(d); d = dirname(d))
      expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' };
    delete env.VK_ICD_FILENAMES;
    const flags = ['--adapter', 'swiftshader', '--case', '64,256,128', '--steps', '1', '--repeats', '1'];
    const r = spawnSync(
      process.execPath,
      ['bench.mjs', ...flags, '--no-extras', '--no-linearity', '--no-capture'],
      { cwd: away, env, encoding: 'utf8', timeout: 100_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const step = lines.find((l) => l.bench === 'trainer_step')!;
    expect(step).toMatchObject({ d: 64, d_sae: 256, tokens: 128, peer: 'tfjs-webgpu', same_adapter: true });
    expect(String(step.adapter)).toMatch(/SwiftShader/);
    expect(step.command).toBe(`node bench.mjs ${flags.join(' ')} --no-extras --no-linearity --no-capture`);
    expect(step.ms_per_step as number).toBeGreaterThan(0);
    expect(step.peer_ms_per_step as number).toBeGreaterThan(0);
    // The two engines train the same SAE from the same start: their losses agree.
    expect(step.loss_rel_diff as number).toBeLessThan(1e-3);
  });
});
