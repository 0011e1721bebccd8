// A run as one self-contained HTML file (issue 10): its config, training curves and held-out metrics
// as inline SVG, the clustering (dendrogram + mean activation by position), and its features'
// dashboards (top and quantile contexts as token text shaded by activation, histogram, temporal
// behaviour). No script, no stylesheet or font from elsewhere: it opens offline in any browser. The
// features come in the documented dashboard JSON shape (src/io/dashboardJson.ts), which is also
// embedded in the file (<script type="application/json" id="dashboards">) for tools to read back.
import type { ContextJson, DashboardFile, FeatureJson } from './dashboardJson';
import { dashboardToJson } from './dashboardJson';

export interface ReportCurve {
  name: string;
  step: number[];
  values: number[];
}

export interface ReportClustering {
  /** [K] feature ids, leaf order (indices into features), scipy-style linkage of K − 1 merges. */
  features: number[];
  order: number[];
  linkage: { a: number[]; b: number[]; dist: number[] };
  /** [K][T] mean activation of each clustered feature by position. */
  heatByPosition: number[][];
}

export interface ReportInput {
  title: string;
  createdAt: string;
  config: Record<string, unknown>;
  data: { label: string; tokenText: string };
  /** Training curves (loss terms, L0…). */
  curves: ReportCurve[];
  /** Held-out evaluations (SPEC §6 names), oldest first. */
  evals: { step: number; metrics: Record<string, number> }[];
  clustering: ReportClustering | null;
  dashboards: DashboardFile | null;
}

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

function fmt(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '–';
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
  }
  if (v === null || v === undefined) return '–';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Visible whitespace, as in the app (src/analysis/tokenDisplay.ts; io may not import analysis code). */
function showToken(t: string): string {
  if (t === '') return '∅';
  return t
    .replace(/\r\n|\r|\n/g, '↵')
    .replace(/\t/g, '⇥')
    .replace(/ /g, '␣');
}

/** Inferno-like ramp from transparent to yellow, by activation share (no d3 in a static file). */
function shade(v: number, max: number): string {
  if (!(v > 0) || !(max > 0)) return 'transparent';
  const x = Math.min(1, v / max);
  const stops = [
    [40, 11, 84],
    [101, 21, 110],
    [159, 42, 99],
    [212, 72, 66],
    [245, 125, 21],
    [250, 193, 39],
    [252, 255, 164],
  ];
  const p = 0.15 + 0.85 * x;
  const i = Math.min(stops.length - 2, Math.floor(p * (stops.length - 1)));
  const f = p * (stops.length - 1) - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function lineChartSvg(c: ReportCurve, w = 300, h = 140): string {
  const pts = c.step
    .map((s, i) => [s, c.values[i]] as const)
    .filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v));
  const pad = { l: 46, r: 8, t: 18, b: 22 };
  if (pts.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(c.name)}"><text x="8" y="16">${esc(c.name)}: no values</text></svg>`;
  const xs = pts.map((p) => p[0]),
    ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs),
    x1 = Math.max(...xs);
  let y0 = Math.min(...ys),
    y1 = Math.max(...ys);
  if (y0 === y1) {
    y0 -= 0.5 * (Math.abs(y0) || 1);
    y1 += 0.5 * (Math.abs(y1) || 1);
  }
  const X = (s: number) => pad.l + ((s - x0) / (x1 - x0 || 1)) * (w - pad.l - pad.r);
  const Y = (v: number) => h - pad.b - ((v - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  const d = pts.map(([s, v], i) => `${i ? 'L' : 'M'}${X(s).toFixed(1)},${Y(v).toFixed(1)}`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(c.name)}" class="chart">` +
    `<text x="${pad.l}" y="12" class="ct">${esc(c.name)}</text>` +
    `<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" class="ax"/>` +
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${h - pad.b}" class="ax"/>` +
    `<text x="${pad.l - 4}" y="${pad.t + 4}" text-anchor="end" class="tk">${fmt(y1)}</text>` +
    `<text x="${pad.l - 4}" y="${h - pad.b}" text-anchor="end" class="tk">${fmt(y0)}</text>` +
    `<text x="${pad.l}" y="${h - 6}" class="tk">${fmt(x0)}</text>` +
    `<text x="${w - pad.r}" y="${h - 6}" text-anchor="end" class="tk">step ${fmt(x1)}</text>` +
    `<path d="${d}" fill="none" stroke="#38bdf8" stroke-width="1.5"/>` +
    (pts.length === 1 ? `<circle cx="${X(pts[0][0])}" cy="${Y(pts[0][1])}" r="2.5" fill="#38bdf8"/>` : '') +
    `</svg>`
  );
}

function barsSvg(counts: number[], label: string, w = 260, h = 90): string {
  const max = Math.max(1, ...counts);
  const bw = (w - 10) / Math.max(1, counts.length);
  const bars = counts
    .map((c, i) => {
      const bh = ((h - 24) * c) / max;
      return `<rect x="${(5 + i * bw).toFixed(1)}" y="${(h - 16 - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#7dd3fc"><title>${c}</title></rect>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(label)}">${bars}<text x="5" y="${h - 3}" class="tk">${esc(label)}</text></svg>`;
}

/** Dendrogram (root left, leaves right, one per row in leaf order) and heatmap rows beside it. */
export function clusteringSvg(c: ReportClustering, rowH = 10): string {
  const K = c.features.length;
  const T = c.heatByPosition[0]?.length ?? 0;
  const dw = 160,
    cw = Math.max(3, Math.min(14, Math.floor(480 / Math.max(1, T)))),
    lw = 44;
  const w = dw + lw + cw * T + 4,
    h = K * rowH + 4;
  const rowOf = new Array<number>(K);
  c.order.forEach((leaf, row) => (rowOf[leaf] = row));
  const maxD = Math.max(1e-12, ...c.linkage.dist);
  const X = (dist: number) => dw - (dist / maxD) * (dw - 4);
  const nodeY: number[] = [],
    nodeX: number[] = [];
  for (let i = 0; i < K; i++) {
    nodeY[i] = 2 + (rowOf[i] + 0.5) * rowH;
    nodeX[i] = dw;
  }
  const paths: string[] = [];
  for (let k = 0; k < c.linkage.a.length; k++) {
    const a = c.linkage.a[k],
      b = c.linkage.b[k];
    const x = X(c.linkage.dist[k]);
    if (nodeY[a] === undefined || nodeY[b] === undefined) continue;
    paths.push(
      `M${nodeX[a].toFixed(1)},${nodeY[a].toFixed(1)}H${x.toFixed(1)}V${nodeY[b].toFixed(1)}H${nodeX[b].toFixed(1)}`,
    );
    nodeY[K + k] = (nodeY[a] + nodeY[b]) / 2;
    nodeX[K + k] = x;
  }
  let hmax = 0;
  for (const r of c.heatByPosition) for (const v of r) if (v > hmax) hmax = v;
  const cells: string[] = [];
  c.order.forEach((leaf, row) => {
    const y = 2 + row * rowH;
    cells.push(
      `<text x="${dw + lw - 4}" y="${y + rowH - 2}" text-anchor="end" class="tk">f${c.features[leaf]}</text>`,
    );
    (c.heatByPosition[leaf] ?? []).forEach((v, t) => {
      cells.push(
        `<rect x="${dw + lw + t * cw}" y="${y}" width="${cw}" height="${rowH - 1}" fill="${shade(v, hmax) === 'transparent' ? '#111827' : shade(v, hmax)}"/>`,
      );
    });
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="Clustering: dendrogram and mean activation by position" class="cluster">` +
    `<path d="${paths.join('')}" fill="none" stroke="#94a3b8" stroke-width="1"/>${cells.join('')}</svg>`
  );
}

function contextHtml(c: ContextJson, max: number): string {
  const special = new Set(c.special_token_indices),
    unknown = new Set(c.unknown_token_indices);
  const first = c.position - c.max_value_token_index;
  const toks = c.tokens
    .map((t, i) => {
      const v = c.values[i];
      const cls = [
        'tok',
        i === c.max_value_token_index ? 'center' : '',
        special.has(i) ? 'special' : '',
        unknown.has(i) ? 'unknown' : '',
      ]
        .filter(Boolean)
        .join(' ');
      const title = `${JSON.stringify(t)} · id ${c.token_ids[i]} · t ${first + i} · activation ${v.toPrecision(3)}`;
      const fg = max > 0 && v / max > 0.6 ? ' color:#111;' : '';
      return `<span class="${cls}" style="background:${shade(v, max)};${fg}" title="${esc(title)}">${esc(showToken(t))}</span>`;
    })
    .join('');
  return `<li><span class="val">${c.max_value.toPrecision(3)}</span> <span class="toks">${toks}</span> <span class="muted">seq ${c.sequence} t ${c.position}</span></li>`;
}

function pctOf(x: number | null): string {
  return x === null ? '–' : `${(100 * x).toFixed(1)} %`;
}

function featureHtml(f: FeatureJson): string {
  const t = f.temporal;
  const quant = f.quantile_groups
    .map(
      (q) =>
        `<li><div class="muted">(${q.lo.toPrecision(3)}, ${q.hi.toPrecision(3)}] · ${q.count} activations (${(100 * q.share).toFixed(1)} %)</div><ol>${q.contexts.map((c) => contextHtml(c, f.max_activation)).join('')}</ol></li>`,
    )
    .join('');
  return `<section class="feature" id="feature-${f.index}" data-feature="${f.index}">
<h3>Feature ${f.index}</h3>
<dl class="facts"><dt>density</dt><dd>${fmt(f.frac_nonzero)}</dd><dt>mean when on</dt><dd>${fmt(f.mean_activation)}</dd><dt>max</dt><dd>${fmt(f.max_activation)}</dd>
<dt>stays on</dt><dd>${pctOf(t.stay_on)}</dd><dt>turns on</dt><dd>${pctOf(t.on_from_off)}</dd><dt>mean run</dt><dd>${t.mean_run_length === null ? '–' : t.mean_run_length.toFixed(2)} tokens</dd><dt>longest run</dt><dd>${t.max_run_length}</dd></dl>
<div class="row"><div>${barsSvg(f.histogram.counts, `activation histogram (0 – ${fmt(f.max_activation)})`)}</div><div>${barsSvg(t.run_length_counts, `run lengths 1 – ${t.run_length_counts.length}+`)}</div></div>
<h4>Top activations</h4>${f.top_contexts.length ? `<ol class="contexts">${f.top_contexts.map((c) => contextHtml(c, f.max_activation)).join('')}</ol>` : '<p class="muted">Never fires on these sequences.</p>'}
${quant ? `<h4>Across the activation range</h4><ul class="quantiles">${quant}</ul>` : ''}
</section>`;
}

/** One row of the features' table of contents: links to the feature's section (same file, offline). */
function tocRow(f: FeatureJson): string {
  const c = f.top_contexts[0];
  const text = c
    ? c.tokens
        .slice(Math.max(0, c.max_value_token_index - 4), c.max_value_token_index + 1)
        .map(showToken)
        .join(' ')
    : '–';
  return `<tr><td><a href="#feature-${f.index}">f${f.index}</a></td><td class="num">${fmt(f.frac_nonzero)}</td><td class="num">${fmt(f.max_activation)}</td><td class="num">${pctOf(f.temporal.stay_on)}</td><td class="toks">${esc(text)}</td></tr>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;background:#0b1220;color:#e2e8f0;margin:0;padding:16px 24px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #1e293b}h3{font-size:15px;margin:8px 0}h4{font-size:13px;margin:10px 0 4px;color:#94a3b8}
.muted{color:#94a3b8;font-size:12px}table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px;border-bottom:1px solid #1e293b;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:8px}.chart,.cluster{background:#111827;border-radius:4px}.ct{fill:#e2e8f0;font-size:11px}.tk{fill:#94a3b8;font-size:9px}.ax{stroke:#334155}
.feature{border:1px solid #1e293b;border-radius:6px;padding:8px 12px;margin:10px 0}.facts{display:grid;grid-template-columns:repeat(4,auto 1fr);gap:2px 10px;font-size:12px}.facts dt{color:#94a3b8}.facts dd{margin:0}
.row{display:flex;gap:12px;flex-wrap:wrap}.contexts,.quantiles ol{margin:0;padding-left:20px;font-size:12px}.quantiles{list-style:none;padding:0}
.toks{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px}.tok{white-space:pre;padding:0 1px;margin-right:1px;border-radius:2px}.tok.center{outline:1px solid #38bdf8}.tok.special{font-style:italic;border:1px dashed #94a3b8}.tok.unknown{color:#94a3b8}
.scroll{overflow-x:auto}a{color:#38bdf8}.toc{margin-bottom:8px}.val{display:inline-block;min-width:4.5em;color:#94a3b8;font-variant-numeric:tabular-nums}`;

/** The report as one HTML document. */
export function buildHtmlReport(r: ReportInput): string {
  const cfg = Object.entries(r.config)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(fmt(v))}</td></tr>`)
    .join('');
  const last = r.evals[r.evals.length - 1];
  const metricNames = last ? Object.keys(last.metrics) : [];
  const evalTable = last
    ? `<table><tr><th>step</th>${metricNames.map((m) => `<th>${esc(m)}</th>`).join('')}</tr>${r.evals
        .map(
          (e) =>
            `<tr><td class="num">${e.step}</td>${metricNames.map((m) => `<td class="num">${fmt(e.metrics[m])}</td>`).join('')}</tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">No held-out evaluation.</p>';
  const evalCurves = metricNames
    .filter((m) => r.evals.length > 1 && r.evals.every((e) => Number.isFinite(e.metrics[m])))
    .slice(0, 8)
    .map((m) =>
      lineChartSvg({
        name: `held-out ${m}`,
        step: r.evals.map((e) => e.step),
        values: r.evals.map((e) => e.metrics[m]),
      }),
    );
  const feats = r.dashboards?.features ?? [];
  const json = r.dashboards ? dashboardToJson(r.dashboards).replace(/</g, '\\u003c') : 'null';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(r.title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(r.title)}</h1>
<p class="muted">TempoSAE run report · ${esc(r.createdAt)} · data: ${esc(r.data.label)} · token text: ${esc(r.data.tokenText)}</p>
<h2>Training curves</h2><div class="charts">${r.curves.map((c) => lineChartSvg(c)).join('')}${evalCurves.join('')}</div>
<h2>Held-out metrics</h2><div class="scroll">${evalTable}</div>
<h2>Clustering</h2>${r.clustering && r.clustering.features.length > 1 ? `<p class="muted">Features clustered by their activation over positions (average linkage on 1 − correlation); rows: mean activation by position.</p>${clusteringSvg(r.clustering)}` : '<p class="muted">No clustering in this run’s latest evaluation.</p>'}
<h2>Features</h2>${feats.length ? `<p class="muted">${feats.length} features; contexts show ${r.dashboards!.context.before} tokens before and ${r.dashboards!.context.after} after each activation, shaded by activation; ␣ is a space, ↵ a newline.</p>` : '<p class="muted">No feature dashboards.</p>'}
${feats.length ? `<table class="toc"><tr><th>feature</th><th>density</th><th>max</th><th>stays on</th><th>strongest context</th></tr>${feats.map(tocRow).join('')}</table>` : ''}
${feats.map(featureHtml).join('\n')}
<h2>Config</h2><table>${cfg}</table>
<script type="application/json" id="dashboards">${json}</script>
</body></html>
`;
}

/** The dashboards embedded in a report (null when it has none). */
export function dashboardsInReport(html: string): unknown {
  const m = /<script type="application\/json" id="dashboards">([\s\S]*?)<\/script>/.exec(html);
  return m ? JSON.parse(m[1]) : null;
}
