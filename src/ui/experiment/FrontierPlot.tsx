// One frontier of the experiment (issue 14): each method's mean over seeds of two metrics (L0 and
// explained variance or smoothness), with its ± interval on both axes. Data in, SVG out; the numbers
// are the table's cells (src/analysis/experimentTable.ts), nothing else.
import { scaleLinear } from 'd3';
import type { ExperimentTable } from '../../analysis/experimentTable';
import { fmt } from '../../analysis/experimentTable';
import { runColor } from '../charts/palette';

const AXIS = '#8a93b2';

export function FrontierPlot(p: {
  table: ExperimentTable;
  x: string;
  y: string;
  testId: string;
  width?: number;
}) {
  const { table: t, x: xk, y: yk } = p;
  const W = p.width ?? 420,
    H = 280;
  const m = { top: 12, right: 16, bottom: 40, left: 58 };
  const iw = W - m.left - m.right,
    ih = H - m.top - m.bottom;
  if (!t.metrics.includes(xk) || !t.metrics.includes(yk))
    return (
      <p className="muted" data-testid={p.testId}>
        No {yk} against {xk}: the runs did not report both.
      </p>
    );
  const pts = t.methods
    .map((meth, i) => ({ meth, i, x: t.cells[meth][xk], y: t.cells[meth][yk] }))
    .filter((q) => Number.isFinite(q.x.mean) && Number.isFinite(q.y.mean));
  const ext = (vals: number[]) => {
    const lo = Math.min(...vals),
      hi = Math.max(...vals);
    const pad = 0.08 * (hi - lo || Math.abs(hi) || 1);
    return [lo - pad, hi + pad];
  };
  const span = (c: { mean: number; half: number }) =>
    Number.isFinite(c.half) ? [c.mean - c.half, c.mean + c.half] : [c.mean];
  const sx = scaleLinear()
    .domain(ext(pts.flatMap((q) => span(q.x))))
    .nice()
    .range([0, iw]);
  const sy = scaleLinear()
    .domain(ext(pts.flatMap((q) => span(q.y))))
    .nice()
    .range([ih, 0]);
  return (
    <figure className="exp-frontier">
      <svg width={W} height={H} role="img" aria-label={`${yk} against ${xk}`} data-testid={p.testId}>
        <g transform={`translate(${m.left},${m.top})`}>
          <rect width={iw} height={ih} fill="none" stroke="#2a3150" />
          {sy.ticks(5).map((v) => (
            <g key={`y${v}`} transform={`translate(0,${sy(v)})`}>
              <line x2={iw} stroke="#2a3150" strokeOpacity={0.6} />
              <text x={-6} fontSize={10} fill={AXIS} textAnchor="end" dominantBaseline="middle">
                {sy.tickFormat(5)(v)}
              </text>
            </g>
          ))}
          {sx.ticks(5).map((v) => (
            <text key={`x${v}`} x={sx(v)} y={ih + 14} fontSize={10} fill={AXIS} textAnchor="middle">
              {sx.tickFormat(5)(v)}
            </text>
          ))}
          <text x={iw / 2} y={ih + 32} fontSize={11} fill={AXIS} textAnchor="middle">
            {xk}
          </text>
          <text
            transform={`translate(${-46},${ih / 2}) rotate(-90)`}
            fontSize={11}
            fill={AXIS}
            textAnchor="middle"
          >
            {yk}
          </text>
          {pts.map((q) => {
            const cx = sx(q.x.mean),
              cy = sy(q.y.mean);
            const color = runColor(q.i);
            return (
              <g key={q.meth} className="exp-point" data-method={q.meth} data-x={q.x.mean} data-y={q.y.mean}>
                {Number.isFinite(q.x.half) ? (
                  <line
                    x1={sx(q.x.mean - q.x.half)}
                    x2={sx(q.x.mean + q.x.half)}
                    y1={cy}
                    y2={cy}
                    stroke={color}
                    strokeOpacity={0.7}
                  />
                ) : null}
                {Number.isFinite(q.y.half) ? (
                  <line
                    x1={cx}
                    x2={cx}
                    y1={sy(q.y.mean - q.y.half)}
                    y2={sy(q.y.mean + q.y.half)}
                    stroke={color}
                    strokeOpacity={0.7}
                  />
                ) : null}
                <circle cx={cx} cy={cy} r={5} fill={color} stroke="#0f1320" />
                <text x={cx + 7} y={q.i % 2 ? cy + 15 : cy - 7} fontSize={10} fill="#dde2ee">
                  {q.meth}
                </text>
                <title>{`${q.meth}: ${xk} ${fmt(q.x.mean)}, ${yk} ${fmt(q.y.mean)} (n = ${q.y.n})`}</title>
              </g>
            );
          })}
        </g>
      </svg>
      <figcaption className="muted">
        {yk} against {xk}: mean over seeds ± {Math.round(t.level * 100)} % t interval
      </figcaption>
    </figure>
  );
}
