// A run's metric history as JSON and CSV (issue 7: "the run's metric history as JSON and CSV").
// Rows are flat records of numbers keyed by SPEC names (StepMetrics fields for training steps, SPEC §6
// names for evaluations), so the same code serves the app, the CLI and re-import.
import { parseJsonFile, SaeFileError } from './errors';

export type MetricRow = Record<string, number>;

export interface MetricHistory {
  /** Training-step metrics (StepMetrics fields), one row per readback. */
  train: MetricRow[];
  /** Held-out evaluations (SPEC §6 names), each with its `step`. */
  eval: MetricRow[];
}

export function emptyHistory(): MetricHistory {
  return { train: [], eval: [] };
}

export function historyToJson(h: MetricHistory): string {
  // JSON has no NaN/Infinity: write them as null so the file stays valid; read back as NaN.
  return JSON.stringify({ format: 'temposae-history', version: 1, ...h }, (_k, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? null : v,
  );
}

export function historyFromJson(text: string, fileName: string): MetricHistory {
  const raw = parseJsonFile(text, fileName);
  const o = raw as Record<string, unknown>;
  if (!o || o.format !== 'temposae-history')
    throw new SaeFileError(fileName, 'not a TempoSAE metric history');
  const rows = (v: unknown, what: string): MetricRow[] => {
    if (!Array.isArray(v)) throw new SaeFileError(fileName, `${what} is not a list`);
    return v.map((r, i) => {
      if (typeof r !== 'object' || r === null)
        throw new SaeFileError(fileName, `${what}[${i}] is not an object`);
      const out: MetricRow = {};
      for (const [k, x] of Object.entries(r)) {
        if (x !== null && typeof x !== 'number')
          throw new SaeFileError(fileName, `${what}[${i}].${k} is not a number`);
        out[k] = x === null ? NaN : x;
      }
      return out;
    });
  };
  return { train: rows(o.train, 'train'), eval: rows(o.eval, 'eval') };
}

/** Columns: every key in first-seen order; missing cells are empty. Numbers at full precision. */
export function rowsToCsv(rows: MetricRow[]): string {
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        cols.push(k);
      }
  const lines = [cols.join(',')];
  for (const r of rows) lines.push(cols.map((c) => (c in r ? String(r[c]) : '')).join(','));
  return lines.join('\n') + '\n';
}

export function csvToRows(text: string, fileName: string): MetricRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (!lines.length) return [];
  const cols = lines[0].split(',');
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== cols.length)
      throw new SaeFileError(
        fileName,
        `line ${i + 2} has ${cells.length} cells, the header has ${cols.length}`,
      );
    const r: MetricRow = {};
    cells.forEach((cell, j) => {
      if (cell === '') return;
      const v = Number(cell);
      if (Number.isNaN(v) && cell !== 'NaN')
        throw new SaeFileError(fileName, `line ${i + 2}: '${cell}' is not a number`);
      r[cols[j]] = v;
    });
    return r;
  });
}
