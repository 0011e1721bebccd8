import { useMemo, useRef, useState } from 'react';
import { buildChartModel, nearestIndex, type Series } from './chartModel';
import { useElementWidth } from './useElementWidth';

export interface LineChartProps {
  series: Series[];
  height: number;
  logY?: boolean;
  smoothing?: number;
  yDomain?: [number, number];
  xDomain?: [number, number];
  /** Mark every point with a dot (charts of a few values). */
  markPoints?: boolean;
  /** Formats a y value in the hover read-out. */
  format?: (v: number) => string;
  xLabel?: string;
  testId?: string;
  ariaLabel: string;
}

function defaultFormat(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4);
}

/**
 * A d3 line chart: data in, SVG out. Scales and paths come from the pure buildChartModel; this
 * component draws them, resizes with its container and shows a read-out of every series at the step
 * under the pointer (raw and smoothed).
 */
export function LineChart(p: LineChartProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>();
  const [hoverX, setHoverX] = useState<number | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const model = useMemo(
    () =>
      buildChartModel(p.series, {
        width: Math.max(width, 120),
        height: p.height,
        logY: p.logY,
        smoothing: p.smoothing,
        yDomain: p.yDomain,
        xDomain: p.xDomain,
        markPoints: p.markPoints,
      }),
    [p.series, width, p.height, p.logY, p.smoothing, p.yDomain, p.xDomain, p.markPoints],
  );
  const fmt = p.format ?? defaultFormat;
  const { margin, innerWidth, innerHeight, x, y } = model;

  const hover =
    hoverX === null
      ? null
      : p.series
          .map((s, si) => {
            const i = nearestIndex(s.x, hoverX);
            if (i < 0) return null;
            return { s, i, raw: s.y[i], smooth: model.smoothed[si][i], xv: s.x[i] };
          })
          .filter((h) => h !== null);
  const hoverStep = hover && hover.length ? hover[0].xv : null;

  const onMove = (e: React.PointerEvent<SVGRectElement>) => {
    const box = svgRef.current!.getBoundingClientRect();
    setHoverX(x.invert(e.clientX - box.left - margin.left));
  };

  return (
    <div className="line-chart" ref={ref} data-testid={p.testId}>
      <svg
        ref={svgRef}
        width={Math.max(width, 120)}
        height={p.height}
        role="img"
        aria-label={p.ariaLabel}
        data-points={p.series.reduce((n, s) => n + s.x.length, 0)}
      >
        <g transform={`translate(${margin.left},${margin.top})`}>
          {/* Empty charts get a frame and a note, not made-up 0–1 axes. */}
          {(model.empty ? [] : model.yTicks).map((t) => (
            <g key={`y${t.value}`} transform={`translate(0,${t.pos})`} className="tick">
              <line x2={innerWidth} className="grid" />
              <text x={-5} dy="0.32em" textAnchor="end">
                {t.label}
              </text>
            </g>
          ))}
          {(model.empty ? [] : model.xTicks).map((t) => (
            <g key={`x${t.value}`} transform={`translate(${t.pos},${innerHeight})`} className="tick">
              <line y2={4} />
              <text y={14} textAnchor="middle">
                {t.label}
              </text>
            </g>
          ))}
          <line y1={innerHeight} y2={innerHeight} x2={innerWidth} className="axis" />
          {model.paths.map((path) => (
            <g key={path.id}>
              {path.rawD && <path d={path.rawD} stroke={path.color} className="raw" fill="none" />}
              <path
                d={path.d}
                stroke={path.color}
                strokeWidth={path.width}
                strokeDasharray={path.dash}
                fill="none"
                data-series={path.id}
              />
              {path.dots.map((d) => (
                <circle key={`${d.x},${d.y}`} cx={d.x} cy={d.y} r={2.5} fill={path.color} />
              ))}
            </g>
          ))}
          {model.empty && (
            <text x={innerWidth / 2} y={innerHeight / 2} textAnchor="middle" className="empty-note">
              no points yet: they appear at each metrics readback
            </text>
          )}
          {hoverStep !== null && (
            <g className="hover">
              <line x1={x(hoverStep)} x2={x(hoverStep)} y2={innerHeight} />
              {hover!.map((h) =>
                Number.isFinite(h.smooth) && (!p.logY || h.smooth > 0) ? (
                  <circle key={h.s.id} cx={x(h.xv)} cy={y(h.smooth)} r={2.5} fill={h.s.color} />
                ) : null,
              )}
            </g>
          )}
          <rect
            width={innerWidth}
            height={innerHeight}
            fill="transparent"
            onPointerMove={onMove}
            onPointerLeave={() => setHoverX(null)}
          />
        </g>
      </svg>
      {hover && hover.length > 0 && (
        <div
          className="readout"
          style={x(hoverStep!) > innerWidth / 2 ? { left: margin.left + 4 } : { right: margin.right + 4 }}
        >
          <div className="readout-x">
            {p.xLabel ?? 'step'} {hoverStep}
          </div>
          {hover.map((h) => (
            <div key={h.s.id}>
              <span className="swatch" style={{ background: h.s.color }} />
              {h.s.label} <b>{fmt(h.smooth)}</b>
              {p.smoothing ? <span className="muted"> ({fmt(h.raw)})</span> : null}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
