// The config a run starts from, for the app's panel and the CLI alike: the method's defaults
// (DEFAULT_CONFIG, src/sae/config.ts) with what the data implies — its width, and for the built-in
// synthetic data its document-start token and the λ1 and lr measured to recover its true features
// (SYNTHETIC_RECOMMENDED, src/data/synthetic.ts explains why the method's λ1 0.04 and lr 3e-4 do not).
import { SYNTHETIC_BOS, SYNTHETIC_RECOMMENDED, type SyntheticPreset } from '../data/synthetic';
import { DEFAULT_CONFIG, type TrainConfig } from '../sae/config';

/** Config fields a dataset implies (what the app applies to its draft when the data is loaded). */
export function impliedByData(d: number, builtin?: SyntheticPreset): Partial<TrainConfig> {
  if (!builtin) return { d_in: d };
  return { d_in: d, doc_start_token_ids: [SYNTHETIC_BOS], ...SYNTHETIC_RECOMMENDED[builtin] };
}

/** The starting config of a run on this data, before the user's own settings. */
export function runDefaults(d: number, builtin?: SyntheticPreset): TrainConfig {
  return { ...DEFAULT_CONFIG, ...impliedByData(d, builtin) };
}

/** The fields where the data's recommendation differs from the method's default, in words. */
export function describeRecommended(builtin: SyntheticPreset): string {
  const r = SYNTHETIC_RECOMMENDED[builtin];
  return (
    `λ1 ${r.l1_coefficient} and lr ${r.lr} are the values recommended for the built-in data ` +
    `(SYNTHETIC_RECOMMENDED; the method's defaults are λ1 ${DEFAULT_CONFIG.l1_coefficient}, lr ${DEFAULT_CONFIG.lr})`
  );
}
