// A bar chart over bins (data in → SVG out): bar i spans [edges[i], edges[i+1]) with height values[i].
// Shared by the density histogram, the inspector's trace and activation histogram and the matched-
// cosine histogram. Colours are explicit so SVG/PNG exports look like the screen.
import { scaleLinear, type ScaleLinear } from 'd3';
import type { ReactNode } from 'react';

export const AXIS_COLOR = '#8a93b2';

/** A bottom axis at y = `at`: baseline, ticks at `pos(t)`, and the axis label under them. */
export function XAxis(p: {
  at: number;
  width: number;
  ticks: number[];
  pos: (t: number) => number;
  label: string;
}) {
  return (
    <g transform={`translate(0,${p.at})`}>
      <line x2={p.width} stroke={AXIS_COLOR} />
      {p.ticks.map((t) => (
        <g key={t} transform={`translate(${p.pos(t)},0)`}>
          <line y2={4} stroke={AXIS_COLOR} />
          <text y={14} fontSize={10} fill={AXIS_COLOR} textAnchor="middle">
            {t}
          </text>
        </g>
      ))}
      <text x={p.width / 2} y={27} fontSize={10} fill={AXIS_COLOR} textAnchor="middle">
        {p.label}
      </text>
    </g>
  );
}

export interface BinBarsProps {
  edges: number[];
  values: number[];
  width: number;
  height: number;
  color: string | ((i: number) => string);
  xLabel: string;
  ariaLabel: string;
  testId?: string;
  barClass?: string;
  xTicks?: number;
  yTicks?: number;
  /** Tooltip of bar i. */
  title?: (i: number) => string;
  /** Extra marks drawn over the bars, in the plot's coordinates. */
  overlay?: (s: {
    x: ScaleLinear<number, number>;
    y: ScaleLinear<number, number>;
    iw: number;
    ih: number;
  }) => ReactNode;
  marginTop?: number;
}

export function BinBars(p: BinBarsProps) {
  const m = { top: p.marginTop ?? 8, right: 10, bottom: 30, left: 40 };
  const iw = Math.max(40, p.width - m.left - m.right),
    ih = Math.max(20, p.height - m.top - m.bottom);
  const lo = p.edges[0],
    hi = p.edges[p.edges.length - 1];
  const x = scaleLinear()
    .domain([lo, hi > lo ? hi : lo + 1])
    .range([0, iw]);
  const y = scaleLinear()
    .domain([0, Math.max(1e-9, ...p.values.filter(Number.isFinite))])
    .nice()
    .range([ih, 0]);
  const fill = typeof p.color === 'string' ? () => p.color as string : p.color;
  return (
    <svg width={p.width} height={p.height} role="img" aria-label={p.ariaLabel} data-testid={p.testId}>
      <g transform={`translate(${m.left},${m.top})`}>
        {p.values.map((v, i) =>
          v > 0 ? (
            <rect
              key={i}
              className={p.barClass}
              x={x(p.edges[i]) + 0.25}
              y={y(v)}
              width={Math.max(0.5, x(p.edges[i + 1]) - x(p.edges[i]) - 0.5)}
              height={ih - y(v)}
              fill={fill(i)}
            >
              {p.title ? <title>{p.title(i)}</title> : null}
            </rect>
          ) : null,
        )}
        {p.overlay?.({ x, y, iw, ih })}
        <XAxis at={ih} width={iw} ticks={x.ticks(p.xTicks ?? 8)} pos={x} label={p.xLabel} />
        {y.ticks(p.yTicks ?? 3).map((t) => (
          <g key={t} transform={`translate(0,${y(t)})`}>
            <line x2={-4} stroke={AXIS_COLOR} />
            <text x={-6} fontSize={10} fill={AXIS_COLOR} textAnchor="end" dominantBaseline="middle">
              {t}
            </text>
          </g>
        ))}
      </g>
    </svg>
  );
}
