// Command-line parsing: `cmd --flag value --flag=value --list a b c --switch`. A flag followed by
// another flag (or nothing) is a switch ("true"). Every value of a repeated or list flag is kept.
import { DEFAULT_CONFIG, tokensPerStep, type TrainConfig } from '../sae/config';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  command: string;
  flags: Map<string, string[]>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const [command = 'help', ...rest] = argv;
  const flags = new Map<string, string[]>();
  let current: string | null = null;
  for (const a of rest) {
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = (eq > 0 ? a.slice(2, eq) : a.slice(2)).replace(/_/g, '-');
      if (!name) throw new UsageError(`empty flag '${a}'`);
      if (!flags.has(name)) flags.set(name, []);
      if (eq > 0) {
        flags.get(name)!.push(a.slice(eq + 1));
        current = null;
      } else current = name;
    } else {
      if (current === null) throw new UsageError(`unexpected argument '${a}' (values follow a --flag)`);
      flags.get(current)!.push(a);
    }
  }
  return { command, flags };
}

/** The single value of a flag, "true" for a bare switch, undefined when absent. */
export function flag(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  if (!v) return undefined;
  if (v.length === 0) return 'true';
  if (v.length > 1) throw new UsageError(`--${name} takes one value (got ${v.join(' ')})`);
  return v[0];
}

export function flagList(a: ParsedArgs, name: string): string[] {
  return a.flags.get(name) ?? [];
}

export function flagNumber(a: ParsedArgs, name: string): number | undefined {
  const v = flag(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number (got '${v}')`);
  return n;
}

/** Short names for the knobs people type most; each maps to a TrainConfig field (SAELens names). */
export const CONFIG_ALIASES: Record<string, keyof TrainConfig> = {
  arch: 'architecture',
  l1: 'l1_coefficient',
  l2: 'temporal_coefficient',
  beta: 'alpha_beta',
  mu: 'lmax_momentum',
  'seq-len': 'context_size',
  'batch-seqs': 'seqs_per_batch',
  warmup: 'lr_warm_up_steps',
};

const flagName = (field: string) => field.replace(/_/g, '-');

/** Flags that set config fields: every TrainConfig field under its own name (dashes) plus the aliases. */
export function configFlagNames(): string[] {
  return [...Object.keys(DEFAULT_CONFIG).map(flagName), ...Object.keys(CONFIG_ALIASES)];
}

function coerce(field: keyof TrainConfig, raw: string[]): unknown {
  const def = DEFAULT_CONFIG[field];
  const one = () => {
    if (raw.length !== 1) throw new UsageError(`--${flagName(field)} takes one value`);
    return raw[0];
  };
  if (Array.isArray(def)) {
    const parts = raw.flatMap((r) => r.split(',')).filter((s) => s !== '');
    const nums = parts.map(Number);
    // Lists of ids and widths are integers; matryoshka_weights are any numbers.
    if (field === 'matryoshka_weights') {
      if (nums.some((n) => !Number.isFinite(n)))
        throw new UsageError(`--${flagName(field)} takes numbers (got ${raw.join(' ')})`);
    } else if (nums.some((n) => !Number.isInteger(n)))
      throw new UsageError(`--${flagName(field)} takes integers (got ${raw.join(' ')})`);
    return nums;
  }
  if (field === 'pad_token_id') {
    const v = one();
    if (v === 'none' || v === 'null') return null;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`--pad-token-id takes an integer or 'none'`);
    return n;
  }
  if (typeof def === 'number') {
    const v = one();
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new UsageError(`--${flagName(field)} needs a number (got '${v}')`);
    return n;
  }
  return one();
}

/**
 * Config from (lowest to highest priority) `base`, a --config JSON object, then individual flags.
 * `--steps N` sets training_tokens = N × tokens per step (after the batch shape is known).
 */
export function configFromArgs(a: ParsedArgs, base: TrainConfig, configJson?: unknown): TrainConfig {
  const cfg = { ...base } as Record<string, unknown>;
  if (configJson !== undefined) {
    if (typeof configJson !== 'object' || configJson === null || Array.isArray(configJson))
      throw new UsageError('--config must hold a JSON object of TrainConfig fields');
    for (const [k, v] of Object.entries(configJson)) {
      if (!(k in DEFAULT_CONFIG)) throw new UsageError(`--config: unknown field '${k}'`);
      cfg[k] = v;
    }
  }
  for (const [name, values] of a.flags) {
    const field = (CONFIG_ALIASES[name] ?? name.replace(/-/g, '_')) as keyof TrainConfig;
    if (!(field in DEFAULT_CONFIG)) continue;
    cfg[field] = coerce(field, values);
  }
  const out = cfg as unknown as TrainConfig;
  const steps = flagNumber(a, 'steps');
  if (steps !== undefined) {
    if (!Number.isInteger(steps) || steps <= 0)
      throw new UsageError(`--steps must be a positive integer (got ${steps})`);
    out.training_tokens = steps * tokensPerStep(out);
  }
  return out;
}
