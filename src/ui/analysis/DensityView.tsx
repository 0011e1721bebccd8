// Feature-density histogram (SPEC §6): log10(density + 1e-10) of every feature; dead features sit in
// the leftmost bin at −10, the dense threshold (density 0.1) is a dashed line; both counts are written.
import { scaleLinear } from 'd3';
import type { DensityHistogram } from '../../analysis/histogram';

const AXIS = '#8a93b2';

export function DensityView({
  hist,
  width,
  height = 200,
}: {
  hist: DensityHistogram;
  width: number;
  height?: number;
}) {
  const m = { top: 18, right: 12, bottom: 32, left: 40 };
  const iw = Math.max(50, width - m.left - m.right),
    ih = height - m.top - m.bottom;
  const lo = hist.edges[0],
    hi = hist.edges[hist.edges.length - 1];
  const x = scaleLinear().domain([lo, hi]).range([0, iw]);
  const y = scaleLinear()
    .domain([0, Math.max(1, ...hist.counts)])
    .nice()
    .range([ih, 0]);
  const total = hist.counts.reduce((s, v) => s + v, 0);
  return (
    <svg
      width={width}
      height={height}
      role="img"
      aria-label="Histogram of log10 feature density"
      data-testid="density-svg"
    >
      <g transform={`translate(${m.left},${m.top})`}>
        {hist.counts.map((c, i) => (
          <rect
            key={i}
            className="an-bar"
            x={x(hist.edges[i]) + 0.5}
            y={y(c)}
            width={Math.max(0.5, x(hist.edges[i + 1]) - x(hist.edges[i]) - 1)}
            height={ih - y(c)}
            fill={
              i === 0 && hist.dead > 0 ? '#f87171' : hist.edges[i] >= hist.denseAt ? '#fbbf24' : '#7dd3fc'
            }
          >
            <title>{`${hist.edges[i].toFixed(1)} … ${hist.edges[i + 1].toFixed(1)}: ${c} features`}</title>
          </rect>
        ))}
        <line
          x1={x(hist.denseAt)}
          x2={x(hist.denseAt)}
          y1={0}
          y2={ih}
          stroke="#fbbf24"
          strokeDasharray="4 3"
        />
        <text x={x(hist.denseAt) - 4} y={-5} fontSize={10} fill="#fbbf24" textAnchor="end">
          dense (&gt; 0.1): {hist.dense}
        </text>
        <text x={2} y={-5} fontSize={10} fill="#f87171">
          dead: {hist.dead} of {total}
        </text>
        <g transform={`translate(0,${ih})`}>
          <line x2={iw} stroke={AXIS} />
          {x.ticks(10).map((t) => (
            <g key={t} transform={`translate(${x(t)},0)`}>
              <line y2={4} stroke={AXIS} />
              <text y={14} fontSize={10} fill={AXIS} textAnchor="middle">
                {t}
              </text>
            </g>
          ))}
          <text x={iw / 2} y={28} fontSize={10} fill={AXIS} textAnchor="middle">
            log10(firing density + 1e-10)
          </text>
        </g>
        {y.ticks(4).map((t) => (
          <g key={t} transform={`translate(0,${y(t)})`}>
            <line x2={-4} stroke={AXIS} />
            <text x={-6} fontSize={10} fill={AXIS} textAnchor="end" dominantBaseline="middle">
              {t}
            </text>
          </g>
        ))}
      </g>
    </svg>
  );
}
