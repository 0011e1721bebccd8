// A heatmap drawn as SVG rects (data in → SVG out): rows × columns of values, a colour legend, column
// ticks, optional row labels and row clicks. Colours are explicit (inferno), so exports match.
import { interpolateInferno, scaleLinear, scaleSequential } from 'd3';
import { XAxis } from './BinBars';

export interface HeatmapProps {
  rows: number[][];
  width: number;
  rowHeight: number;
  /** Value range of the colour scale (default [0, max]). */
  domain?: [number, number];
  /** Column axis: label and the value of column 0 and the step between columns. */
  xLabel: string;
  x0?: number;
  dx?: number;
  rowLabels?: string[];
  /** Left margin reserved for row labels. */
  labelWidth?: number;
  yLabel?: string;
  onRowClick?: (row: number) => void;
  rowTestId?: (row: number) => string;
  legendLabel: string;
  ariaLabel: string;
  testId?: string;
  /** Draw into an enclosing SVG at this offset instead of a standalone <svg>. */
  at?: { x: number; y: number };
}

/** Height a heatmap of `rows` rows takes (for laying it out beside other SVG content). */
export function heatmapHeight(rows: number, rowHeight: number): number {
  return rows * rowHeight + 40;
}

const AXIS = '#8a93b2';

export function Heatmap(p: HeatmapProps) {
  const nRows = p.rows.length;
  const nCols = nRows ? p.rows[0].length : 0;
  const labelW = p.labelWidth ?? (p.rowLabels ? 44 : 8);
  const top = 6,
    bottom = 34, // heatmapHeight() = rows·rowHeight + top + bottom
    legendW = 54;
  const innerW = Math.max(10, p.width - labelW - legendW - 8);
  const innerH = nRows * p.rowHeight;
  const max = p.domain?.[1] ?? Math.max(1e-12, ...p.rows.flat().filter(Number.isFinite));
  const min = p.domain?.[0] ?? 0;
  const color = scaleSequential(interpolateInferno).domain([min, max]);
  const cw = nCols ? innerW / nCols : 0;
  const x0 = p.x0 ?? 0,
    dx = p.dx ?? 1;
  const xs = scaleLinear()
    .domain([x0, x0 + dx * nCols])
    .range([0, innerW]);
  const ticks = xs.ticks(Math.max(2, Math.floor(innerW / 60)));
  const legend = scaleLinear().domain([min, max]).range([innerH, 0]);
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  const gradId = `grad-${p.testId ?? 'hm'}`;
  const content = (
    <>
      <defs>
        <linearGradient id={gradId} x1="0" y1="1" x2="0" y2="0">
          {stops.map((s) => (
            <stop key={s} offset={s} stopColor={color(min + s * (max - min))} />
          ))}
        </linearGradient>
      </defs>
      <g transform={`translate(${labelW},${top})`}>
        {p.rows.map((r, i) =>
          r.map((v, j) => (
            <rect
              key={`${i}-${j}`}
              x={j * cw}
              y={i * p.rowHeight}
              width={cw + 0.3}
              height={p.rowHeight + 0.3}
              fill={Number.isFinite(v) ? color(v) : '#000'}
            />
          )),
        )}
        {p.onRowClick
          ? p.rows.map((_, i) => (
              <rect
                key={`hit-${i}`}
                className="an-row-hit"
                data-testid={p.rowTestId?.(i)}
                x={-labelW}
                y={i * p.rowHeight}
                width={labelW + innerW}
                height={p.rowHeight}
                fill="transparent"
                tabIndex={0}
                role="button"
                aria-label={p.rowLabels ? `open ${p.rowLabels[i]}` : `row ${i}`}
                onClick={() => p.onRowClick!(i)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    p.onRowClick!(i);
                  }
                }}
              >
                {p.rowLabels ? <title>{p.rowLabels[i]}</title> : null}
              </rect>
            ))
          : null}
        {p.rowLabels && p.rowHeight >= 8
          ? p.rowLabels.map((l, i) => (
              <text
                key={`l-${i}`}
                x={-4}
                y={(i + 0.5) * p.rowHeight}
                fontSize={Math.min(10, p.rowHeight - 1)}
                fill={AXIS}
                textAnchor="end"
                dominantBaseline="middle"
                pointerEvents="none"
              >
                {l}
              </text>
            ))
          : null}
        <XAxis at={innerH} width={innerW} ticks={ticks} pos={xs} label={p.xLabel} />
        {p.yLabel ? (
          <text
            transform={`translate(${-labelW + 10},${innerH / 2}) rotate(-90)`}
            fontSize={10}
            fill={AXIS}
            textAnchor="middle"
          >
            {p.yLabel}
          </text>
        ) : null}
        <g transform={`translate(${innerW + 10},0)`}>
          <rect width={10} height={innerH} fill={`url(#${gradId})`} />
          {legend.ticks(4).map((t) => (
            <text key={t} x={14} y={legend(t)} fontSize={9} fill={AXIS} dominantBaseline="middle">
              {+t.toPrecision(3)}
            </text>
          ))}
          <text
            transform={`translate(${46},${innerH / 2}) rotate(90)`}
            fontSize={9}
            fill={AXIS}
            textAnchor="middle"
          >
            {p.legendLabel}
          </text>
        </g>
      </g>
    </>
  );
  const attrs = {
    'data-testid': p.testId,
    'data-rows': nRows,
    'data-cols': nCols,
    'aria-label': p.ariaLabel,
  };
  if (p.at)
    return (
      <g transform={`translate(${p.at.x},${p.at.y})`} {...attrs}>
        {content}
      </g>
    );
  return (
    <svg width={p.width} height={innerH + top + bottom} role="img" {...attrs}>
      {content}
    </svg>
  );
}
