// `export`: turn a run folder or a checkpoint into what the app imports / SAELens loads.
//   export --run DIR --zip FILE           the SAE folder of a finished run as one .zip (checkpoints left out)
//   export --checkpoint FILE --out DIR    a checkpoint as a SAELens v6 folder (no sparsity file: no
//                                         evaluation has run on it; `eval` measures it), optionally --zip
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCheckpoint } from '../io/checkpoint';
import { buildSaeFolder, CFG_FILE } from '../io/exportSae';
import { zipFolder } from '../io/zip';
import { flag, UsageError, type ParsedArgs } from './args';
import { jsonLine, type CliEnv } from './env';
import { readFolder, writeFileAtomic, writeFolder } from './runFolder';

export async function exportCommand(a: ParsedArgs, env: CliEnv): Promise<number> {
  const run = flag(a, 'run');
  const ckFile = flag(a, 'checkpoint');
  const zip = flag(a, 'zip');
  const out = flag(a, 'out');
  if (Boolean(run) === Boolean(ckFile))
    throw new UsageError('export needs exactly one of --run DIR or --checkpoint FILE');
  let files: Map<string, Uint8Array>;
  let name: string;
  if (run) {
    files = readFolder(run);
    if (!files.has(CFG_FILE))
      throw new UsageError(`${run} has no ${CFG_FILE}: finish the run (or export one of its checkpoints)`);
    name = path.basename(path.resolve(run));
  } else {
    const ck = parseCheckpoint(new Uint8Array(readFileSync(ckFile!)), ckFile!);
    name = `${String(ck.extra?.run_name ?? 'temposae')}-step${ck.trainer.step}`;
    files = buildSaeFolder({
      weights: ck.trainer.weights,
      config: ck.config,
      scaling_factor: ck.scaling_factor,
      density: null,
      steps: ck.trainer.step,
      tokens_seen: ck.trainer.tokens_seen,
      run_name: String(ck.extra?.run_name ?? name),
    });
  }
  if (!zip && !out) throw new UsageError('export needs --zip FILE and/or --out DIR');
  if (out) writeFolder(out, files);
  if (zip) writeFileAtomic(zip, zipFolder(files, name));
  env.out(jsonLine({ command: 'export', files: [...files.keys()], out: out ?? null, zip: zip ?? null }));
  return 0;
}
