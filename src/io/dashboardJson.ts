// Feature dashboards as a file that travels (issue 10): the JSON shape of README "Feature dashboard
// JSON", close to what OpenAI's sae-viewer and Neuronpedia read (per feature: density, mean activation,
// activation histogram, top and quantile contexts as token strings with one value per token), plus the
// feature's temporal behaviour. Written by the app (Features → inspector → "Dashboard JSON" and the
// report), by the CLI's `inspect`; read back (strictly: hostile input, SPEC §7) by parseDashboardFile.
// NaN (e.g. stay-on probability of a feature that never fires) is written as null.
import type { DashboardContext, FeatureDashboard } from '../analysis/featureDashboard';
import { SaeFileError } from './errors';

export const DASHBOARD_FORMAT = 'temposae.feature-dashboards';
export const DASHBOARD_VERSION = 1;

export interface ContextJson {
  /** Token text, one string per token (raw: a leading space is a space). */
  tokens: string[];
  /** Token ids (−1: the data has none). */
  token_ids: number[];
  /** The feature's activation at each token. */
  values: number[];
  max_value: number;
  /** Index in tokens of the activation the context is centred on. */
  max_value_token_index: number;
  /** Which sequence of the evaluated set, and the position of that activation in it. */
  sequence: number;
  position: number;
  /** Indices of special tokens (BOS/EOS/pad…) and of tokens whose text is unknown. */
  special_token_indices: number[];
  unknown_token_indices: number[];
}

export interface FeatureJson {
  index: number;
  /** Share of tokens where the feature is > 0 (Neuronpedia frac_nonzero). */
  frac_nonzero: number;
  /** Mean activation over the tokens where it fires. */
  mean_activation: number;
  max_activation: number;
  tokens_seen: number;
  tokens_fired: number;
  /** Non-zero activations: counts[i] in [bin_edges[i], bin_edges[i+1]). */
  histogram: { bin_edges: number[]; counts: number[] };
  temporal: {
    stay_on: number | null;
    on_from_off: number | null;
    mean_run_length: number | null;
    max_run_length: number;
    runs: number;
    run_length_counts: number[];
  };
  top_contexts: ContextJson[];
  quantile_groups: { lo: number; hi: number; count: number; share: number; contexts: ContextJson[] }[];
}

export interface DashboardFile {
  format: typeof DASHBOARD_FORMAT;
  version: number;
  created_at: string;
  run: { name: string; step: number; config: Record<string, unknown> };
  data: { label: string; split: string; tokens_per_sequence: number; sequences: number };
  token_text: { name: string; kind: string };
  context: { before: number; after: number };
  features: FeatureJson[];
}

const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function contextToJson(c: DashboardContext): ContextJson {
  const special: number[] = [],
    unknown: number[] = [];
  c.tokens.forEach((t, i) => {
    if (t.special) special.push(i);
    if (!t.known && !t.pad) unknown.push(i);
  });
  return {
    tokens: c.tokens.map((t) => t.text),
    token_ids: c.tokens.map((t) => t.id),
    values: c.tokens.map((t) => t.value),
    max_value: c.value,
    max_value_token_index: c.center,
    sequence: c.sequence,
    position: c.position,
    special_token_indices: special,
    unknown_token_indices: unknown,
  };
}

export function featureToJson(d: FeatureDashboard): FeatureJson {
  return {
    index: d.feature,
    frac_nonzero: d.density,
    mean_activation: d.meanActive,
    max_activation: d.max,
    tokens_seen: d.tokens,
    tokens_fired: d.fired,
    histogram: { bin_edges: d.histogram.edges, counts: d.histogram.counts },
    temporal: {
      stay_on: fin(d.temporal.stayOn),
      on_from_off: fin(d.temporal.onFromOff),
      mean_run_length: fin(d.temporal.meanRunLength),
      max_run_length: d.temporal.maxRunLength,
      runs: d.temporal.runs,
      run_length_counts: d.temporal.runLengthCounts,
    },
    top_contexts: d.top.map(contextToJson),
    quantile_groups: d.quantiles.map((q) => ({
      lo: q.lo,
      hi: q.hi,
      count: q.count,
      share: q.share,
      contexts: q.contexts.map(contextToJson),
    })),
  };
}

export function dashboardFile(o: {
  run: DashboardFile['run'];
  data: DashboardFile['data'];
  tokenText: { name: string; kind: string };
  context: { before: number; after: number };
  dashboards: FeatureDashboard[];
  createdAt?: string;
}): DashboardFile {
  return {
    format: DASHBOARD_FORMAT,
    version: DASHBOARD_VERSION,
    created_at: o.createdAt ?? new Date().toISOString(),
    run: o.run,
    data: o.data,
    token_text: { name: o.tokenText.name, kind: o.tokenText.kind },
    context: o.context,
    features: o.dashboards.map(featureToJson),
  };
}

export function dashboardToJson(f: DashboardFile, indent?: number): string {
  return JSON.stringify(f, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}

// ---- reading back (every field checked; the first problem is named) ----

type Obj = Record<string, unknown>;

function fail(file: string, where: string, what: string): never {
  throw new SaeFileError(file, `${where}: ${what}`);
}
function obj(file: string, where: string, v: unknown): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(file, where, 'expected an object');
  return v as Obj;
}
function num(file: string, where: string, v: unknown, nullable = false): number {
  if (nullable && v === null) return NaN;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, where, 'expected a finite number');
  return v;
}
function int(file: string, where: string, v: unknown): number {
  const n = num(file, where, v);
  if (!Number.isInteger(n)) fail(file, where, 'expected an integer');
  return n;
}
function str(file: string, where: string, v: unknown): string {
  if (typeof v !== 'string') fail(file, where, 'expected a string');
  return v;
}
function arr(file: string, where: string, v: unknown, max = 1 << 24): unknown[] {
  if (!Array.isArray(v)) fail(file, where, 'expected a list');
  if (v.length > max) fail(file, where, `more than ${max} entries`);
  return v;
}

function parseContext(file: string, where: string, v: unknown): ContextJson {
  const o = obj(file, where, v);
  const tokens = arr(file, `${where}.tokens`, o.tokens).map((t, i) => str(file, `${where}.tokens[${i}]`, t));
  const ids = arr(file, `${where}.token_ids`, o.token_ids).map((t, i) =>
    int(file, `${where}.token_ids[${i}]`, t),
  );
  const values = arr(file, `${where}.values`, o.values).map((t, i) => num(file, `${where}.values[${i}]`, t));
  if (ids.length !== tokens.length || values.length !== tokens.length)
    fail(
      file,
      where,
      `tokens (${tokens.length}), token_ids (${ids.length}) and values (${values.length}) differ in length`,
    );
  const center = int(file, `${where}.max_value_token_index`, o.max_value_token_index);
  if (center < 0 || center >= tokens.length)
    fail(file, `${where}.max_value_token_index`, `${center} is outside the ${tokens.length} tokens`);
  const idx = (k: string) =>
    arr(file, `${where}.${k}`, o[k]).map((t, i) => {
      const n = int(file, `${where}.${k}[${i}]`, t);
      if (n < 0 || n >= tokens.length)
        fail(file, `${where}.${k}[${i}]`, `${n} is outside the ${tokens.length} tokens`);
      return n;
    });
  return {
    tokens,
    token_ids: ids,
    values,
    max_value: num(file, `${where}.max_value`, o.max_value),
    max_value_token_index: center,
    sequence: int(file, `${where}.sequence`, o.sequence),
    position: int(file, `${where}.position`, o.position),
    special_token_indices: idx('special_token_indices'),
    unknown_token_indices: idx('unknown_token_indices'),
  };
}

function parseFeature(file: string, where: string, v: unknown): FeatureJson {
  const o = obj(file, where, v);
  const h = obj(file, `${where}.histogram`, o.histogram);
  const edges = arr(file, `${where}.histogram.bin_edges`, h.bin_edges).map((x, i) =>
    num(file, `${where}.histogram.bin_edges[${i}]`, x),
  );
  const counts = arr(file, `${where}.histogram.counts`, h.counts).map((x, i) =>
    int(file, `${where}.histogram.counts[${i}]`, x),
  );
  if (edges.length !== counts.length + 1)
    fail(
      file,
      `${where}.histogram`,
      `${edges.length} bin edges for ${counts.length} counts (want one more edge than counts)`,
    );
  const t = obj(file, `${where}.temporal`, o.temporal);
  const nn = (k: string) => {
    const x = num(file, `${where}.temporal.${k}`, t[k], true);
    return Number.isNaN(x) ? null : x;
  };
  return {
    index: int(file, `${where}.index`, o.index),
    frac_nonzero: num(file, `${where}.frac_nonzero`, o.frac_nonzero),
    mean_activation: num(file, `${where}.mean_activation`, o.mean_activation),
    max_activation: num(file, `${where}.max_activation`, o.max_activation),
    tokens_seen: int(file, `${where}.tokens_seen`, o.tokens_seen),
    tokens_fired: int(file, `${where}.tokens_fired`, o.tokens_fired),
    histogram: { bin_edges: edges, counts },
    temporal: {
      stay_on: nn('stay_on'),
      on_from_off: nn('on_from_off'),
      mean_run_length: nn('mean_run_length'),
      max_run_length: int(file, `${where}.temporal.max_run_length`, t.max_run_length),
      runs: int(file, `${where}.temporal.runs`, t.runs),
      run_length_counts: arr(file, `${where}.temporal.run_length_counts`, t.run_length_counts).map((x, i) =>
        int(file, `${where}.temporal.run_length_counts[${i}]`, x),
      ),
    },
    top_contexts: arr(file, `${where}.top_contexts`, o.top_contexts).map((c, i) =>
      parseContext(file, `${where}.top_contexts[${i}]`, c),
    ),
    quantile_groups: arr(file, `${where}.quantile_groups`, o.quantile_groups).map((g, i) => {
      const w = `${where}.quantile_groups[${i}]`;
      const q = obj(file, w, g);
      return {
        lo: num(file, `${w}.lo`, q.lo),
        hi: num(file, `${w}.hi`, q.hi),
        count: int(file, `${w}.count`, q.count),
        share: num(file, `${w}.share`, q.share),
        contexts: arr(file, `${w}.contexts`, q.contexts).map((c, k) =>
          parseContext(file, `${w}.contexts[${k}]`, c),
        ),
      };
    }),
  };
}

/** Parse a dashboard JSON file; throws an SaeFileError naming the file and the first bad field. */
export function parseDashboardFile(text: string, file: string): DashboardFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SaeFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  const o = obj(file, 'the file', raw);
  if (o.format !== DASHBOARD_FORMAT) fail(file, 'format', `expected "${DASHBOARD_FORMAT}"`);
  const version = int(file, 'version', o.version);
  if (version > DASHBOARD_VERSION)
    fail(file, 'version', `${version} is newer than this app reads (${DASHBOARD_VERSION})`);
  const run = obj(file, 'run', o.run);
  const data = obj(file, 'data', o.data);
  const tt = obj(file, 'token_text', o.token_text);
  const ctx = obj(file, 'context', o.context);
  return {
    format: DASHBOARD_FORMAT,
    version,
    created_at: str(file, 'created_at', o.created_at),
    run: {
      name: str(file, 'run.name', run.name),
      step: int(file, 'run.step', run.step),
      config: obj(file, 'run.config', run.config),
    },
    data: {
      label: str(file, 'data.label', data.label),
      split: str(file, 'data.split', data.split),
      tokens_per_sequence: int(file, 'data.tokens_per_sequence', data.tokens_per_sequence),
      sequences: int(file, 'data.sequences', data.sequences),
    },
    token_text: { name: str(file, 'token_text.name', tt.name), kind: str(file, 'token_text.kind', tt.kind) },
    context: {
      before: int(file, 'context.before', ctx.before),
      after: int(file, 'context.after', ctx.after),
    },
    features: arr(file, 'features', o.features).map((f, i) => parseFeature(file, `features[${i}]`, f)),
  };
}
