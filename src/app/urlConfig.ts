// The whole config in the URL, so a link reproduces a run (TensorFlow Playground's state.ts idea).
// Keys are the TrainConfig field names (SAELens names) so a link reads like a cfg.json; every field is
// written, not only those that differ from today's defaults, so a link keeps meaning the same run when
// defaults change. Parsing never throws: a bad value keeps the default and is reported in words.
import { ARCHITECTURE_IDS } from '../sae/architectures';
import { DEFAULT_CONFIG, validateConfig, type TrainConfig } from '../sae/config';
import type { DataChoice } from '../store/workspaceStore';

/** The TrainConfig fields whose values are strings. */
type StringKey = { [K in keyof TrainConfig]: TrainConfig[K] extends string ? K : never }[keyof TrainConfig];

/**
 * Allowed values of the string-valued fields. A Record over every string field, so a new one cannot be
 * forgotten here (it would otherwise be parsed as a number and every link would report it).
 */
const ENUMS: Record<StringKey, readonly string[]> = {
  architecture: ARCHITECTURE_IDS,
  recon_loss: ['squared', 'norm'],
  seq_start_mode: ['zero', 'skip'],
  lmax_mode: ['max', 'ema'],
  alpha_mode: ['absolute', 'relative'],
  lr_schedule: ['constant', 'cosine'],
  normalize_activations: ['none', 'expected_average_only_in'],
  contrastive_similarity: ['cosine', 'dot'],
};
const enumOf = (key: keyof TrainConfig): readonly string[] | undefined =>
  (ENUMS as Partial<Record<keyof TrainConfig, readonly string[]>>)[key];

const URL_VERSION = '1';

/** Writes a number so that parsing it gives the same double (JS's shortest round-trip form). */
function numberText(n: number): string {
  return String(n);
}

export function configToQuery(cfg: TrainConfig, data: DataChoice): string {
  const p = new URLSearchParams();
  p.set('v', URL_VERSION);
  p.set('data', data.kind === 'builtin' ? `builtin:${data.preset}` : 'files');
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[]) {
    const value = cfg[key];
    if (Array.isArray(value)) p.set(key, value.map(numberText).join(','));
    else if (value === null) p.set(key, 'none');
    else if (typeof value === 'number') p.set(key, numberText(value));
    else p.set(key, String(value));
  }
  return p.toString();
}

export interface ParsedQuery {
  config: TrainConfig;
  /** The data named in the link, or null when it names none. */
  data: DataChoice | null;
  /** True when the link carried at least one config field. */
  hasConfig: boolean;
  /** Only the fields the link itself set, well-formed (a hand-written link may set a few). */
  given: Partial<TrainConfig>;
  /** Each problem in words, naming the parameter; the default was kept for it. */
  problems: string[];
}

function parseNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export function configFromQuery(search: string, base: TrainConfig = DEFAULT_CONFIG): ParsedQuery {
  const p = new URLSearchParams(search);
  const config: Record<string, unknown> = { ...base };
  const given: Record<string, unknown> = {};
  const problems: string[] = [];
  let hasConfig = false;
  const known = new Set<string>(['v', 'data', ...Object.keys(DEFAULT_CONFIG)]);
  for (const key of p.keys()) if (!known.has(key)) problems.push(`Unknown URL parameter “${key}” ignored.`);

  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[]) {
    const text = p.get(key);
    if (text === null) continue;
    hasConfig = true;
    const def = DEFAULT_CONFIG[key];
    const bad = (what: string) =>
      problems.push(`URL parameter ${key}=“${text}” is not ${what}; kept ${JSON.stringify(base[key])}.`);
    const allowed = enumOf(key);
    if (allowed) {
      if (allowed.includes(text)) config[key] = given[key] = text;
      else bad(`one of ${allowed.join(', ')}`);
    } else if (Array.isArray(def)) {
      const parts = text === '' ? [] : text.split(',').map(parseNumber);
      // Token ids and prefix widths are integers; matryoshka_weights are any numbers.
      const ints = key !== 'matryoshka_weights';
      if (parts.every((x) => x !== null && (!ints || Number.isInteger(x)))) config[key] = given[key] = parts;
      else bad(ints ? 'a comma-separated list of integers' : 'a comma-separated list of numbers');
    } else if (key === 'pad_token_id') {
      const n = text === 'none' ? null : parseNumber(text);
      if (text === 'none' || (n !== null && Number.isInteger(n))) config[key] = given[key] = n;
      else bad('an integer or “none”');
    } else {
      const n = parseNumber(text);
      if (n !== null) config[key] = given[key] = n;
      else bad('a finite number');
    }
  }

  let data: DataChoice | null = null;
  const dataText = p.get('data');
  if (dataText !== null) {
    if (dataText.startsWith('builtin:') && dataText.length > 8)
      data = { kind: 'builtin', preset: dataText.slice(8) };
    else if (dataText === 'files') data = { kind: 'files', label: 'your files' };
    else
      problems.push(
        `URL parameter data=“${dataText}” is not builtin:PRESET or files; using the built-in data.`,
      );
  }

  // A link whose values are each well-formed can still describe an invalid config (k > d_sae, …).
  const cfg = config as unknown as TrainConfig;
  const invalid = validateConfig(cfg);
  if (invalid.length) {
    problems.push(`The link's config is not valid (${invalid.join('; ')}); using the defaults instead.`);
    return { config: base, data, hasConfig, given: {}, problems };
  }
  return { config: cfg, data, hasConfig, given: given as Partial<TrainConfig>, problems };
}
