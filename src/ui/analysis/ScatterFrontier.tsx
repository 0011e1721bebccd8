// The L0 – explained-variance frontier of the comparison view: one point per run (its latest held-out
// evaluation), L0 on a log axis. The method's published baselines can be drawn as hollow diamonds,
// labelled as imported numbers: they are gemma-2-2b layer-12 results, not runs of this app.
import { scaleLinear, scaleLog } from 'd3';
import { XAxis } from './BinBars';

export interface FrontierPoint {
  id: string;
  label: string;
  color: string;
  l0: number;
  value: number;
  /** Vertical offset of the label (reference points are labelled on the chart, runs in the legend). */
  dy?: number;
}

/** Published baselines quoted by the method's authors (gemma-2-2b, layer 12) — imported, never ours. */
export const REFERENCE_POINTS: FrontierPoint[] = [
  { id: 'ref-topk', label: 'TopK (imported: gemma-2-2b L12)', color: '#cbd5e1', l0: 320, value: 0.789 },
  {
    id: 'ref-jumprelu',
    label: 'JumpReLU (imported: gemma-2-2b L12)',
    color: '#cbd5e1',
    l0: 320,
    value: 0.844,
  },
  { id: 'ref-relu', label: 'ReLU (imported: gemma-2-2b L12)', color: '#cbd5e1', l0: 8311, value: 0.988 },
];

const AXIS = '#8a93b2';

/** The Pareto frontier of points (lower L0 and higher value are better), ordered by L0. */
export function paretoFront(points: FrontierPoint[]): FrontierPoint[] {
  const sorted = [...points]
    .filter((q) => q.l0 > 0 && Number.isFinite(q.value))
    .sort((a, b) => a.l0 - b.l0 || b.value - a.value);
  const out: FrontierPoint[] = [];
  for (const q of sorted) if (!out.length || q.value > out[out.length - 1].value) out.push(q);
  return out;
}

export function ScatterFrontier(p: {
  points: FrontierPoint[];
  references: FrontierPoint[];
  yLabel: string;
  width: number;
  height?: number;
}) {
  const height = p.height ?? 240;
  const m = { top: 10, right: 16, bottom: 34, left: 48 };
  const iw = Math.max(60, p.width - m.left - m.right),
    ih = height - m.top - m.bottom;
  const all = [...p.points, ...p.references].filter((q) => q.l0 > 0 && Number.isFinite(q.value));
  const l0s = all.map((q) => q.l0);
  const x = scaleLog()
    .domain([Math.min(1, ...l0s) * 0.8, Math.max(10, ...l0s) * 1.25])
    .range([0, iw]);
  const vals = all.map((q) => q.value);
  const y = scaleLinear()
    .domain([Math.max(-1, Math.min(...vals) - 0.05), Math.max(1, ...vals)])
    .nice()
    .range([ih, 0]);
  const front = paretoFront(p.points);
  return (
    <>
      <svg
        width={p.width}
        height={height}
        role="img"
        aria-label={`L0 versus ${p.yLabel}`}
        data-testid="frontier-svg"
      >
        <g transform={`translate(${m.left},${m.top})`}>
          {y.ticks(5).map((t) => (
            <g key={t} transform={`translate(0,${y(t)})`}>
              <line x2={iw} stroke="#2a3150" />
              <text x={-6} fontSize={10} fill={AXIS} textAnchor="end" dominantBaseline="middle">
                {t}
              </text>
            </g>
          ))}
          <XAxis
            at={ih}
            width={iw}
            ticks={x.ticks(6).filter((t) => Math.log10(t) % 1 === 0)}
            pos={x}
            label="L0 (active features per token, log scale)"
          />
          <text
            transform={`translate(${-36},${ih / 2}) rotate(-90)`}
            fontSize={10}
            fill={AXIS}
            textAnchor="middle"
          >
            {p.yLabel}
          </text>
          {p.references.map((q) => (
            <g key={q.id} transform={`translate(${x(q.l0)},${y(q.value)})`} data-testid={q.id}>
              <path d="M0,-6L6,0L0,6L-6,0Z" fill="none" stroke={q.color} />
              <text x={-8} y={q.dy ?? -8} fontSize={9} fill={q.color} textAnchor="end">
                {q.label}
              </text>
            </g>
          ))}
          {front.length > 1 ? (
            <path
              d={`M${front.map((q) => `${x(q.l0).toFixed(1)},${y(q.value).toFixed(1)}`).join('L')}`}
              fill="none"
              stroke="#e4e8f4"
              strokeOpacity={0.5}
              strokeDasharray="3 3"
              data-testid="frontier-line"
            />
          ) : null}
          {p.points.map((q) => (
            <g key={q.id} transform={`translate(${x(q.l0)},${y(q.value)})`} className="an-point">
              <circle r={5} fill={q.color} fillOpacity={0.85} stroke="#0f1320" />
              <title>{`${q.label}: L0 ${q.l0.toPrecision(4)}, ${p.yLabel} ${q.value.toPrecision(4)}`}</title>
            </g>
          ))}
        </g>
      </svg>
      <div className="an-legend">
        {front.length > 1 ? (
          <path
            d={`M${front.map((q) => `${x(q.l0).toFixed(1)},${y(q.value).toFixed(1)}`).join('L')}`}
            fill="none"
            stroke="#e4e8f4"
            strokeOpacity={0.5}
            strokeDasharray="3 3"
            data-testid="frontier-line"
          />
        ) : null}
        {p.points.map((q) => (
          <span key={q.id}>
            <span className="an-swatch" style={{ background: q.color }} /> {q.label}
          </span>
        ))}
      </div>
    </>
  );
}
