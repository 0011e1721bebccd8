// Dashboards that travel (issue 10): choose features, download their dashboards as the documented JSON
// (README "Feature dashboard JSON") or the run's one-file HTML report with those features.
import { useState } from 'react';
import { dashboardFileOfFeatures, defaultReportFeatures, runReportHtml } from '../../app/dashboardExport';
import { dashboardToJson } from '../../io/dashboardJson';
import { downloadBlob, slug } from './exportFiles';

/** "3, 17 42" → [3, 17, 42]; a message when something is not a feature of this SAE. */
export function parseFeatureList(text: string, m: number): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) return 'Name at least one feature.';
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n >= m) return `“${p}” is not a feature (0–${m - 1}).`;
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export function DashboardExport({
  runId,
  runName,
  feature,
  m,
}: {
  runId: string;
  runName: string;
  feature: number;
  m: number;
}) {
  const [text, setText] = useState(() =>
    [feature, ...defaultReportFeatures(runId, 8).filter((f) => f !== feature)].join(', '),
  );
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const run = (f: (features: number[]) => Promise<void>) => async () => {
    const features = parseFeatureList(text, m);
    if (typeof features === 'string') return setMsg(features);
    setBusy(true);
    setMsg(null);
    try {
      await f(features);
    } catch (e) {
      setMsg(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const name = slug(runName);
  const exports = [
    {
      testId: 'dashboard-json',
      label: 'Dashboard JSON',
      suffix: 'dashboards.json',
      make: async (fs: number[]) =>
        new Blob([dashboardToJson(await dashboardFileOfFeatures(runId, fs), 1)], {
          type: 'application/json',
        }),
    },
    {
      testId: 'report-html',
      label: 'HTML report',
      suffix: 'report.html',
      make: async (fs: number[]) => new Blob([await runReportHtml(runId, fs)], { type: 'text/html' }),
    },
  ];
  return (
    <div className="an-dash-export" data-testid="dashboard-export">
      <label className="an-inline">
        features{' '}
        <input
          type="text"
          value={text}
          data-testid="dashboard-features"
          onChange={(e) => setText(e.target.value)}
          style={{ width: 180 }}
        />
      </label>{' '}
      {exports.map((x) => (
        <button
          key={x.testId}
          type="button"
          disabled={busy}
          data-testid={x.testId}
          onClick={run(async (fs) => downloadBlob(`${name}-${x.suffix}`, await x.make(fs)))}
        >
          {x.label}
        </button>
      ))}
      {busy ? <span className="muted"> preparing…</span> : null}
      {msg ? <p className="an-error">{msg}</p> : null}
    </div>
  );
}
